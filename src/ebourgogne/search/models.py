"""The portal's search index: one row per public consultation, with everything the portal filters,
sorts and shows, so that a search reads one table (plus the full-text index) and never the
consultations, organisations and lots tables it was built from.

The full-text part depends on the database (see search.backends):
- PostgreSQL: a `document tsvector` column of this table (weights: title A, object B, lots, buyer,
  place and main CPV label C) with a GIN index, configuration `ebourgogne_fr` (French Snowball stemmer,
  accents folded by `search_fold()`); added by migration 0001 with SQL, so the model does not declare it.
- SQLite: an FTS5 virtual table `search_fts(title, object, other)` whose rowid is the consultation's id,
  tokenizer unicode61 remove_diacritics 2, holding text stemmed by `search.text.stemmed()`.

Drafts and practice consultations (`Consultation.is_practice`) are never here: rows are written by
search.indexing when a consultation is published or changed, and removed if it ever stops being public.
The portal's search, its feeds, the sitemap and the buyers' public pages read this index only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    consultation = models.OneToOneField(
        "consultations.Consultation", on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    buyer_name = models.CharField(max_length=255)
    buyer_slug = models.CharField(max_length=80)
    reference = models.CharField(max_length=50)
    title = models.CharField(max_length=255)
    procedure = models.CharField(max_length=32)
    contract_type = models.CharField(max_length=16)
    department = models.CharField(max_length=3, blank=True)
    commune = models.CharField(max_length=120, blank=True)
    main_cpv = models.CharField(max_length=8, blank=True)
    # Every CPV code of the consultation and of its lots, each between spaces (" 45233140 71000000 "): the
    # CPV subtree filter on SQLite is a test on this column, read from the search indexes that carry it
    # (search.backends, migration 0009); PostgreSQL finds the codes as lexemes of the document instead.
    cpv_codes = models.TextField(blank=True, default="")
    estimated_value = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=16)
    published_at = models.DateTimeField()
    bids_deadline = models.DateTimeField()
    indexed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("consultation indexée")
        verbose_name_plural = _("consultations indexées")
        indexes = [
            # Open consultations by deadline (the default listing), and every filter with it.
            models.Index(fields=["state", "bids_deadline", "consultation"], name="search_state_deadline"),
            models.Index(fields=["state", "published_at", "consultation"], name="search_state_published"),
            # The id last: the page's whole order (deadline, id) from the index, and the id for a CPV test on
            # each row read without the table's row (SQLite: the id is not the table's rowid).
            models.Index(
                fields=["department", "state", "bids_deadline", "consultation"], name="search_dept_state_deadline"
            ),
            models.Index(fields=["organisation", "state", "bids_deadline"], name="search_org_state_deadline"),
            models.Index(fields=["buyer_slug", "published_at"], name="search_buyer_published"),
            models.Index(
                fields=["procedure", "state", "bids_deadline", "consultation"], name="search_proc_state_deadline"
            ),
            models.Index(fields=["estimated_value", "consultation"], name="search_value"),
        ]

    def __str__(self) -> str:
        return self.title


class IndexVersion(models.Model):
    """One row, whose `version` goes up with every write to the index (search.indexing), in the writing
    transaction: with the next deadline to pass, it is the stamp under which a rendered page of results is
    kept (search.views, core.pagecache). The row is made by the first write (an upsert), so a flushed
    database keeps working."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("version de l'index")
        verbose_name_plural = _("versions de l'index")

    def __str__(self) -> str:
        return str(self.version)
