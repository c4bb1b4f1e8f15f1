"""E-mail campaign reports -> ``email_campaigns``: Mailchimp, Brevo and a generic e-mail campaign CSV.

* ``mailchimp``: the campaign reports export (Reports > Download/Export, one row per campaign) with its
  column names ``Title, Subject, List, Send Date, Total Recipients, Successful Deliveries, Soft Bounces,
  Hard Bounces, Total Bounces, Unique Opens, Open Rate, Total Opens, Unique Clicks, Click Rate, Total Clicks,
  Unsubscribes, Abuse Complaints, Unique Id`` (English UI), their German counterparts (``Titel, Betreff,
  Zielgruppe, Sendedatum, Empfänger gesamt, Erfolgreiche Zustellungen, Eindeutige Öffnungen, Abmeldungen,
  Missbrauchsbeschwerden ...``, numbers with decimal commas), and the Marketing API's report fields flattened
  to columns (``id, campaign_title, list_name, subject_line, send_time, emails_sent, abuse_reports,
  unsubscribed, bounces.hard_bounces, opens.unique_opens, opens.proxy_excluded_unique_opens,
  clicks.unique_subscriber_clicks ...``). The API's ``proxy_excluded_unique_opens`` (opens without Apple
  Mail Privacy Protection) gives the machine opens: unique opens minus that figure.
* ``brevo``: Brevo's (Sendinblue's) campaign statistics, with the API's names (``id, name, subject,
  sentDate, sent, delivered, hardBounces, softBounces, uniqueViews, viewed, clickers, uniqueClicks,
  unsubscriptions, complaints, appleMppOpens``) or the UI report's English and German names (``Campaign
  name, Sent date, Recipients, Delivered, Unique opens, Clickers, Unsubscribed, Complaints, Apple MPP
  opens``; ``Kampagnenname, Versanddatum, Empfänger, Zugestellt, Eindeutige Öffnungen ...``).
  ``appleMppOpens`` are the machine opens.
* ``email``: a generic CSV/Parquet with the columns ``date`` (send day or time), ``campaign_id``,
  ``campaign_name``, ``utm_campaign``, ``tool``, ``channel``, ``recipients``, ``delivered``, ``bounces``
  (or ``hard_bounces``/``soft_bounces``), ``unique_opens``, ``machine_opens``, ``unique_clicks``,
  ``unsubscribes``, ``complaints`` (``total_opens``, ``total_clicks``, ``subject``, ``list`` optional).

The campaign key that joins sessions and orders is the newsletter's UTM campaign: ``utm_campaign`` where the
export has it, else the campaign's name (Mailchimp's Google Analytics link tracking uses the title). Rates
are never read: they are recomputed from the counts. A re-export replaces the campaigns it repeats (tool,
campaign id and send day).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.generic import iter_source, warn_unknown_channels
from trueroi.ingest.owned import (
    Layout,
    add,
    at_most,
    canonical_detector,
    constant,
    detector,
    first_of,
    header_key,
    read_layout,
    register_table,
    require,
)
from trueroi.workspace.load import PeriodReplace, RowKey

TABLE = "email_campaigns"
CHANNEL = "Email"
COUNTS = (
    "recipients",
    "delivered",
    "bounces",
    "hard_bounces",
    "soft_bounces",
    "unique_opens",
    "human_opens",
    "machine_opens",
    "total_opens",
    "unique_clicks",
    "unique_link_clicks",
    "total_clicks",
    "unsubscribes",
    "complaints",
)
KINDS = {
    **dict.fromkeys(COUNTS, "count"),
    "sent": "day",
    "campaign_id": "text",
    "campaign_name": "text",
    "subject": "text",
    "list_name": "text",
    "utm_campaign": "text",
    "tool": "lower",
    "channel": "text",
}
REQUIRED = (("sent",), ("recipients",), ("campaign_id", "campaign_name"))
KEYS = ("tool", "campaign_id", "date_day")


def _aliases(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    return {header_key(name): field for field, names in pairs.items() for name in names}


MAILCHIMP = _aliases(
    {
        "campaign_name": ("Title", "Campaign Title", "campaign_title", "Titel", "Kampagnentitel"),
        "subject": ("Subject", "Subject Line", "subject_line", "Betreff", "Betreffzeile"),
        "list_name": ("List", "List Name", "Audience", "list_name", "Liste", "Zielgruppe"),
        "sent": ("Send Date", "Send Time", "send_time", "Sendedatum", "Versanddatum", "Versandzeit"),
        "recipients": ("Total Recipients", "Emails Sent", "emails_sent", "Empfänger gesamt", "Empfänger"),
        "delivered": ("Successful Deliveries", "Erfolgreiche Zustellungen"),
        "soft_bounces": ("Soft Bounces", "bounces.soft_bounces"),
        "hard_bounces": ("Hard Bounces", "bounces.hard_bounces"),
        "bounces": ("Total Bounces", "Bounces gesamt"),
        "unique_opens": ("Unique Opens", "opens.unique_opens", "Eindeutige Öffnungen"),
        "human_opens": ("opens.proxy_excluded_unique_opens", "Unique Opens (excluding Apple MPP)"),
        "total_opens": ("Total Opens", "opens.opens_total", "Öffnungen gesamt"),
        "unique_clicks": (
            "Unique Clicks",
            "clicks.unique_subscriber_clicks",
            "Unique Subscriber Clicks",
            "Eindeutige Klicks",
        ),
        "total_clicks": ("Total Clicks", "clicks.clicks_total", "Klicks gesamt"),
        "unsubscribes": ("Unsubscribes", "unsubscribed", "Abmeldungen"),
        "complaints": ("Abuse Complaints", "abuse_reports", "Missbrauchsbeschwerden", "Beschwerden"),
        "campaign_id": ("Unique Id", "Campaign ID", "id", "Eindeutige ID", "Kampagnen-ID"),
        "utm_campaign": ("utm_campaign", "UTM Campaign"),
    }
)
MAILCHIMP_GERMAN = frozenset(
    header_key(h)
    for h in ("Titel", "Betreff", "Zielgruppe", "Sendedatum", "Empfänger gesamt", "Erfolgreiche Zustellungen")
    + ("Eindeutige Öffnungen", "Öffnungen gesamt", "Abmeldungen", "Missbrauchsbeschwerden", "Klicks gesamt")
)
BREVO = _aliases(
    {
        "campaign_id": ("id", "Campaign ID", "Kampagnen-ID"),
        "campaign_name": ("name", "Campaign name", "Kampagnenname", "Kampagne"),
        "subject": ("subject", "Betreff"),
        "list_name": ("Lists", "Liste", "Listen"),
        "sent": ("sentDate", "Sent date", "Sending date", "Date sent", "Versanddatum", "Sendedatum"),
        "recipients": ("sent", "Recipients", "Empfänger", "Gesendet"),
        "delivered": ("delivered", "Delivered", "Zugestellt"),
        "hard_bounces": ("hardBounces", "Hard bounces", "Hardbounces"),
        "soft_bounces": ("softBounces", "Soft bounces", "Softbounces"),
        "unique_opens": ("uniqueViews", "Unique opens", "Eindeutige Öffnungen", "Unique views"),
        "total_opens": ("viewed", "Opens", "Öffnungen"),
        "machine_opens": ("appleMppOpens", "Apple MPP opens", "Apple MPP-Öffnungen", "Öffnungen Apple MPP"),
        "unique_clicks": ("clickers", "Clickers", "Klicker", "Unique clickers"),
        "unique_link_clicks": ("uniqueClicks", "Unique clicks", "Eindeutige Klicks"),
        "total_clicks": ("Clicks", "Klicks"),
        "unsubscribes": ("unsubscriptions", "Unsubscribed", "Unsubscriptions", "Abmeldungen"),
        "complaints": ("complaints", "Complaints", "Spam complaints", "Beschwerden"),
        "utm_campaign": ("utmCampaignValue", "utm_campaign", "UTM campaign"),
    }
)
BREVO_GERMAN = frozenset(
    header_key(h)
    for h in ("Kampagnenname", "Versanddatum", "Empfänger", "Zugestellt", "Eindeutige Öffnungen")
)
GENERIC = _aliases(
    {
        "sent": ("date", "date_day", "send_date", "send_time", "day"),
        "campaign_id": ("campaign_id",),
        "campaign_name": ("campaign_name", "name"),
        "utm_campaign": ("utm_campaign", "campaign"),
        "subject": ("subject",),
        "list_name": ("list", "list_name", "audience"),
        "tool": ("tool",),
        "channel": ("channel",),
        **{c: (c,) for c in COUNTS if c not in ("human_opens", "unique_link_clicks")},
        "recipients": ("recipients", "sent", "emails_sent"),
    }
)


def _build(tool: str):  # noqa: ANN202 - a Build function
    def build(
        cols: dict[str, pa.Array], n: int, off: int, ctx: ImportContext, shown: dict[str, str]
    ) -> dict[str, pa.Array]:
        require(cols, ctx, off, shown, "sent", "recipients")
        name = cols.get("campaign_name")
        campaign_id = first_of(cols, "campaign_id", "campaign_name")
        require({"campaign_id": campaign_id}, ctx, off, shown, "campaign_id")
        bounces = first_of(cols, "bounces")
        if bounces is None:
            bounces = add(cols.get("hard_bounces"), cols.get("soft_bounces"))
        if bounces is None and "delivered" in cols:
            bounces = pc.subtract(cols["recipients"], cols["delivered"])
        delivered = cols.get("delivered")
        if delivered is None and bounces is not None:
            delivered = pc.subtract(cols["recipients"], pc.fill_null(bounces, 0))
        machine = cols.get("machine_opens")
        if machine is None and "human_opens" in cols and "unique_opens" in cols:
            machine = pc.max_element_wise(pc.subtract(cols["unique_opens"], cols["human_opens"]), 0)
        channel = cols.get("channel", constant(ctx.options.get("channel") or CHANNEL, n))
        channel = pc.fill_null(channel, CHANNEL)
        warn_unknown_channels(channel, ctx)
        out = {
            "date_day": cols["sent"],
            "tool": pc.fill_null(cols["tool"], tool) if "tool" in cols else constant(tool, n),
            "campaign_id": campaign_id,
            "campaign_name": name if name is not None else campaign_id,
            "subject": cols.get("subject"),
            "list_name": cols.get("list_name"),
            "campaign": first_of(cols, "utm_campaign", "campaign_name", "campaign_id"),
            "channel": channel,
            "recipients": cols["recipients"],
            "delivered": delivered,
            "bounces": bounces,
            "hard_bounces": cols.get("hard_bounces"),
            "unique_opens": cols.get("unique_opens"),
            "machine_opens": machine,
            "total_opens": cols.get("total_opens"),
            "unique_clicks": first_of(cols, "unique_clicks", "unique_link_clicks"),
            "total_clicks": cols.get("total_clicks"),
            "unsubscribes": cols.get("unsubscribes"),
            "complaints": cols.get("complaints"),
        }
        out = {k: (v if v is not None else pa.nulls(n, pa.int64())) for k, v in out.items()}
        for k in ("subject", "list_name"):
            out[k] = out[k].cast(pa.string())
        _plausible(out, ctx, off, shown)
        return out

    return build


def _plausible(cols: dict[str, pa.Array], ctx: ImportContext, off: int, shown: dict[str, str]) -> None:
    """Counts that cannot exceed others: deliveries the recipients, unique opens and clicks the deliveries."""
    names = {**shown, "delivered": shown.get("delivered", "delivered")}
    at_most(cols, "delivered", "recipients", ctx, off, names, "expected deliveries of at most the recipients")
    at_most(cols, "bounces", "recipients", ctx, off, names, "expected bounces of at most the recipients")
    for part in ("unique_opens", "unique_clicks"):
        at_most(cols, part, "delivered", ctx, off, names, "expected at most one unique per delivered e-mail")
    at_most(cols, "machine_opens", "unique_opens", ctx, off, names, "expected a part of the unique opens")


def _layout(name: str, aliases: dict[str, str], german: frozenset[str] = frozenset()) -> Layout:
    return Layout(name, TABLE, aliases, KINDS, REQUIRED, german, KEYS)


LAYOUTS = {
    "mailchimp": _layout("mailchimp", MAILCHIMP, MAILCHIMP_GERMAN),
    "brevo": _layout("brevo", BREVO, BREVO_GERMAN),
    "email": _layout("email", GENERIC),
}


def _reader(name: str):  # noqa: ANN202 - an importer
    layout = LAYOUTS[name]

    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        chunks = None
        if name == "email" and path.suffix.lower() in (".parquet", ".pq"):
            chunks = _parquet(path, ctx, layout)
        return {TABLE: read_layout(path, ctx, layout, _build(name), chunks)}

    return read


def _parquet(path: Path, ctx: ImportContext, layout: Layout):  # noqa: ANN202 - chunks of read_layout
    for off, raw in iter_source(path, ctx.problems):
        mapping = layout.mapping(raw.column_names)
        if off == 0:
            layout.check_header(mapping, raw.column_names, ctx.file)
        yield off, raw.select(list(mapping.values())).rename_columns(list(mapping)), mapping


register_table(TABLE, RowKey(KEYS), PeriodReplace("date_day", scope=("tool",)))
MAILCHIMP_ONLY = ("Successful Deliveries", "Erfolgreiche Zustellungen", "emails_sent", "opens.unique_opens")
MAILCHIMP_ONLY += ("Total Recipients", "Empfänger gesamt")
BREVO_ONLY = ("uniqueViews", "appleMppOpens", "Clickers", "Klicker", "Zugestellt", "Sent date", "sentDate")
register(
    Format(
        "mailchimp",
        (TABLE,),
        _reader("mailchimp"),
        "Mailchimp campaign reports export (English/German UI, or Marketing API report fields)",
        detector(LAYOUTS["mailchimp"], {header_key(h) for h in MAILCHIMP_ONLY}),
    )
)
register(
    Format(
        "brevo",
        (TABLE,),
        _reader("brevo"),
        "Brevo (Sendinblue) e-mail campaign statistics (UI report or API fields)",
        detector(LAYOUTS["brevo"], {header_key(h) for h in BREVO_ONLY}),
    )
)
register(
    Format(
        "email",
        (TABLE,),
        _reader("email"),
        "e-mail campaigns with canonical columns (CSV/Parquet)",
        canonical_detector({"recipients"}, {"unique_opens", "delivered", "unique_clicks"}),
    )
)
