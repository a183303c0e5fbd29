"""Fixtures of the indicators tests: the clock at the data set's "now" and the data set."""

from __future__ import annotations

import pytest
import time_machine

from ebourgogne.indicators.tests import data


@pytest.fixture
def clock_now():
    with time_machine.travel(data.NOW, tick=False):
        yield data.NOW


@pytest.fixture
def world(db, clock_now):
    return data.build()
