"""`{% tenders_public_block consultation %}`: the "submit a bid" entry on a consultation's public page."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def tenders_public_block(context, consultation) -> str:
    return ""  # SKELETON: deadline countdown, size limit, the link to build a bid
