"""`{% opening_key_block consultation %}`: the consultation's public encryption key on its public page."""

from django import template

register = template.Library()


@register.simple_tag
def opening_key_block(consultation) -> str:
    return ""  # SKELETON: the recipient (age1...) and its fingerprint, when the consultation has a key
