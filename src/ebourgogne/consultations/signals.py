"""Signals of the consultations domain, for the apps that follow a consultation (search index, DCE,
questions, alerts...). Sent by `consultations.services` inside the service's transaction, after the write:
a receiver that writes joins that transaction; one that sends mail must do so on commit
(`ebourgogne.core.tasks.enqueue_on_commit`).
"""

from django.dispatch import Signal

# consultation: the Consultation just published.
consultation_published = Signal()

# consultation: the Consultation; changes: {field name: (old, new)} of what changed, state included
# (closing, opening, outcome, cancellation, deadline postponed, any public field edited).
consultation_changed = Signal()
