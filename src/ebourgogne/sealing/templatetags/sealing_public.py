"""`{% opening_key_block consultation %}`: the consultation's public encryption key on its public page.

One small query (the key's public columns), nothing when the consultation has no key yet."""

from django import template

from ebourgogne.sealing.crypto import grouped
from ebourgogne.sealing.models import ConsultationKey

register = template.Library()


@register.inclusion_tag("sealing/_public_block.html")
def opening_key_block(consultation):
    key = (
        ConsultationKey.objects.filter(consultation_id=consultation.pk)
        .values("recipient", "fingerprint", "threshold", "share_count", "is_practice")
        .first()
    )
    if key is None:
        return {"key": None}
    return {
        "key": key,
        "fingerprint_grouped": grouped(key["fingerprint"]),
        "consultation": consultation,
    }
