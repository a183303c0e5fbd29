"""`{% decp_status contract as status %}`: the DECP state of a contract for the buyer's pages
(see `ebourgogne.contracts.decp.status`)."""

from __future__ import annotations

from django import template

from ebourgogne.contracts import decp

register = template.Library()


@register.simple_tag
def decp_status(contract) -> decp.Status:
    return decp.status(contract)
