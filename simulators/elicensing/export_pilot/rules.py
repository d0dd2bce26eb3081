"""The review step: which documents each annex needs (Rules p.6) and the refusal grounds 1–7 of
Rules p.11 (seed L1019-1040) as coded rules.

``findings`` is what the desk shows the officer after the machine's review; the automatic officer
refuses exactly on them, and a human officer may not approve while any remains open (he may refuse
on more, e.g. a forged document only a person can see — ground 1).

Readings (Rules p.11 gives grounds, not tests):

- (1) unreliable data: the applicant's name is not the registry's; an invoice whose amount or
  currency is not fields 9–10; an origin document naming another country than field 12; a
  document dated after the registration day.
- (2) not meeting the law: the applicant is not in GBDUL/GBDFL or not active there — Rules p.2(2)
  admits only registered legal entities and individual entrepreneurs as foreign trade
  participants.
- (3) no consent to restricted personal data (Law on personal data, Art. 8).
- (4) not meeting these Rules: an empty mandatory form field; a document of items 1)–4) missing
  (p.6); no border crossing point in field 16 (item 7); the application addressed to another
  committee than the one the code routes to (order p.4–6; digest §9 scenario 5 marks the ground
  UNCERTAIN — 4 is the nearest); a re-filing under p.13 without its three attachments.
  Item 5) and item 6) missing are grounds 6 and 7, which name them specifically.
- (5) a basis document terminated or suspended: an attached document whose term ended before the
  registration day.
- (6) Annexes 1–2 only: no certificate of origin, or origin GB, US or an EU member state
  ("Еуропалық Одақ": the 27 members; the text gives no list — ``EU_MEMBERS``).
- (7) Annex 3 only: no operator certificate (эксплуатант сертификаты).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from simulators.elicensing.export_pilot.forms import (
    DocumentKind,
    ExportPermitApplication,
    Ground,
)
from simulators.elicensing.export_pilot.goods import Annex, GoodsEntry, entry_for
from simulators.elicensing.rule_facts import RegistryAnswer
from simulators.elicensing.rules import same_name

EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
SANCTIONED_ORIGINS = EU_MEMBERS | {"GB", "US"}

# Rules p.11 (1)–(7): the law's wording in English and Kazakh.
GROUND_TITLES: dict[int, tuple[str, str]] = {
    1: (
        "false or unreliable information in the documents or data",
        "құжаттардың және (немесе) деректердің анық емес екендігінің анықталуы",
    ),
    2: (
        "the recipient or the materials do not meet the requirements of normative legal acts",
        "көрсетілетін қызметті алушының және (немесе) материалдардың нормативтік құқықтық "
        "актілердің талаптарына сәйкес келмеуі",
    ),
    3: (
        "no consent to access restricted personal data",
        "қолжетімділігі шектеулі дербес деректерге қол жеткізуге келісімнің болмауы",
    ),
    4: ("non-compliance with these Rules", "осы Қағидалардың талаптарына сәйкес келмеуі"),
    5: (
        "a document on which the permit is based was terminated or suspended",
        "рұқсат беру үшін негіз болған құжаттардың қолданылуын тоқтату немесе тоқтата тұру",
    ),
    6: (
        "no certificate of origin, or origin United Kingdom, USA or European Union "
        "(Annexes 1 and 2)",
        "шығарылған елі туралы сертификаттың болмауы не шығарылған елі Ұлыбритания, АҚШ, "
        "Еуропалық Одақ болуы",
    ),
    7: ("no operator certificate (Annex 3)", "эксплуатант сертификатының болмауы"),
}

# Rules p.6 and Annex 1 row 8: the attachments each annex needs (items 5 and 6 → grounds 6, 7).
REQUIRED_ITEMS: dict[DocumentKind, str] = {
    DocumentKind.CONTRACT: "1) copy of the foreign trade contract",
    DocumentKind.INVOICE: "2) invoices",
    DocumentKind.IMPORT_DECLARATION: "3) the customs declaration of the import",
    DocumentKind.IMPORT_APPLICATION: "3) the application for import",
    DocumentKind.TECHNICAL_SPECIFICATION: "4) technical and commercial characteristics",
}
DOCUMENTS_BY_ANNEX: dict[Annex, tuple[DocumentKind, ...]] = {
    Annex.INDUSTRY: (*REQUIRED_ITEMS, DocumentKind.ORIGIN_DOCUMENT),
    Annex.TELECOM: (*REQUIRED_ITEMS, DocumentKind.ORIGIN_DOCUMENT),
    Annex.CIVIL_AVIATION: (*REQUIRED_ITEMS, DocumentKind.OPERATOR_CERTIFICATE),
}
REFILING_ITEMS = (
    DocumentKind.TERMINATION_APPLICATION,
    DocumentKind.CHANGE_DOCUMENTS,
    DocumentKind.CUSTOMS_EXECUTION_INFO,
)


def ground(code: int, reasoning: str) -> Ground:
    title, title_kk = GROUND_TITLES[code]
    return Ground(code=code, title=title, title_kk=title_kk, reasoning=reasoning)


@dataclass(frozen=True)
class Facts:
    """What the review knows beyond the application: the day it was registered, the registry."""

    registered_on: dt.date
    registry: RegistryAnswer


def findings(app: ExportPermitApplication, facts: Facts) -> tuple[Ground, ...]:
    """Every ground of Rules p.11 the application meets, in ground order, with the reasons."""
    entry = entry_for(app.goods.commodity_code) if app.goods and app.goods.commodity_code else None
    checks = {
        1: _unreliable(app, facts),
        2: _not_lawful(facts),
        3: _no_consent(app),
        4: _not_per_rules(app, entry),
        5: _basis_terminated(app, facts),
        6: _origin(app) if entry is None or entry.annex is not Annex.CIVIL_AVIATION else [],
        7: _operator(app) if entry is not None and entry.annex is Annex.CIVIL_AVIATION else [],
    }
    return tuple(ground(code, "; ".join(reasons)) for code, reasons in checks.items() if reasons)


def _unreliable(app: ExportPermitApplication, facts: Facts) -> list[str]:
    reasons = []
    answer, name = facts.registry, app.applicant.name
    if answer.found and name and not any(same_name(name, known) for known in answer.names):
        reasons.append(f"applicant name «{name}» is not the registry's ({', '.join(answer.names)})")
    goods = app.goods
    for invoice in app.documents_of(DocumentKind.INVOICE):
        if goods is None or invoice.amount is None or goods.value is None:
            continue
        if invoice.amount != goods.value or (invoice.currency or goods.currency) != goods.currency:
            reasons.append(
                f"invoice {invoice.number or '-'} states {invoice.amount} {invoice.currency or ''}"
                f"; field 10 states {goods.value} {goods.currency or ''}"
            )
    for origin in app.documents_of(DocumentKind.ORIGIN_DOCUMENT):
        if (
            origin.country
            and goods
            and goods.origin_country
            and origin.country != (goods.origin_country)
        ):
            reasons.append(
                f"origin document names {origin.country}, field 12 states {goods.origin_country}"
            )
    for document in app.documents:
        if document.date and document.date > facts.registered_on:
            reasons.append(f"{document.kind.value} is dated {document.date}, after registration")
    return reasons


def _not_lawful(facts: Facts) -> list[str]:
    answer = facts.registry
    if not answer.found:
        return [f"the applicant is not in {answer.source.value}: not a foreign trade participant"]
    if not answer.active:
        return [f"{answer.source.value} status {answer.status}: not an active participant"]
    return []


def _no_consent(app: ExportPermitApplication) -> list[str]:
    consent = app.consent
    if consent is None or not consent.given:
        return ["consent to access restricted personal data is not given"]
    return []


_FIELDS = {
    "valid_from": "validity from (field 2)",
    "valid_to": "validity to (field 2)",
    "contract": "contract (field 4)",
    "buyer": "buyer (field 6)",
    "destination_country": "country of destination (field 7)",
    "goods": "goods (fields 9-15)",
    "authorized_person": "authorized person (field 17)",
}


def _not_per_rules(app: ExportPermitApplication, entry: GoodsEntry | None) -> list[str]:
    reasons = [f"{label} is empty" for name, label in _FIELDS.items() if getattr(app, name) is None]
    if app.applicant.name is None or app.applicant.address is None:
        reasons.append("applicant name and address (field 5) are required")
    if app.buyer is not None and (app.buyer.name is None or app.buyer.country is None):
        reasons.append("buyer name and country (fields 6, 8) are required")
    if app.goods is not None:
        reasons += [f"{m} is empty" for m in app.goods.missing() if "origin" not in m]
    if app.valid_from and app.valid_to and app.valid_to < app.valid_from:
        reasons.append("validity ends before it starts (field 2)")
    missing = [label for kind, label in REQUIRED_ITEMS.items() if not app.documents_of(kind)]
    reasons += [f"missing document {label} (Rules p.6)" for label in missing]
    checkpoint = app.additional_info.border_checkpoint if app.additional_info else None
    if not checkpoint:
        reasons.append("no border crossing point in field 16 (Rules Annex 1 row 8 item 7)")
    if entry is not None and app.authorized_body and app.authorized_body is not entry.committee:
        reasons.append(
            f"goods of Annex {entry.annex.value} are for the {entry.committee.value} committee, "
            f"not {app.authorized_body.value} (order p.{3 + entry.annex.value})"
        )
    if app.replaces:
        absent = [k.value for k in REFILING_ITEMS if not app.documents_of(k)]
        if absent:
            reasons.append(f"a new application after a change (p.13) needs {', '.join(absent)}")
    return reasons


def _basis_terminated(app: ExportPermitApplication, facts: Facts) -> list[str]:
    return [
        f"{d.kind.value} {d.number or ''} ended on {d.valid_until}".replace("  ", " ")
        for d in app.documents
        if d.valid_until is not None and d.valid_until < facts.registered_on
    ]


def _origin(app: ExportPermitApplication) -> list[str]:
    reasons = []
    if not app.documents_of(DocumentKind.ORIGIN_DOCUMENT):
        reasons.append("no document confirming the country of origin (item 5)")
    origin = app.goods.origin_country if app.goods else None
    if origin is None:
        reasons.append("country of origin (field 12) is empty")
    elif origin in SANCTIONED_ORIGINS:
        where = "an EU member state" if origin in EU_MEMBERS else origin
        reasons.append(f"country of origin {origin} is {where}")
    return reasons


def _operator(app: ExportPermitApplication) -> list[str]:
    if app.documents_of(DocumentKind.OPERATOR_CERTIFICATE):
        return []
    return ["no operator certificate (item 6) for aviation goods of Annex 3"]
