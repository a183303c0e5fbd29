"""`{% load dce_buyer %}{% dce_buyer_block consultation %}`: the same tags as dce_public, by the buyer's name."""

from ebourgogne.dce.templatetags.dce_public import register  # noqa: F401
