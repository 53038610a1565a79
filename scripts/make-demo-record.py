#!/usr/bin/env python3
"""Makes the demo clinic's synthetic medical record: app/src/record/demo/{alice,robert,carol}.json.

RUN ONCE, BY HAND. Nothing runs this at build, test or run time: the portal and its tests read
the committed JSON, and neither needs carebundle. It is kept so that anyone can see, and redo,
how the data was made:

    python3 -m venv /tmp/demo-record
    /tmp/demo-record/bin/pip install carebundle==0.5.0            # Apache-2.0, from PyPI
    /tmp/demo-record/bin/python scripts/make-demo-record.py

and to check the committed files against the FHIR R4 (4.0.1) models of fhir.resources 6.1.0, which
needs pydantic 1 and so a venv of its own (carebundle needs pydantic 2):

    python3 -m venv /tmp/r4-check
    /tmp/r4-check/bin/pip install fhir.resources==6.1.0 'pydantic[email]<2'
    /tmp/r4-check/bin/python scripts/make-demo-record.py --check

The output is the same bytes every time (fixed seeds, no clock).

Where the data comes from
- carebundle 0.5.0 (synthetic FHIR R4 / US Core 6.1 generator) draws each patient once from one
  of its clinical profiles: the baseline lab values (jointly drawn, with computed identities
  such as eGFR and the HbA1c-glucose relation), height, weight, and for Robert the
  blood-pressure course of a treated hypertensive. Its curated terminology tables give the
  LOINC, RxNorm and ICD-10-CM codes and displays, and the UCUM units.
- This script lays those baselines out over 2021-2026 as a clinic record: visits, panels with
  reference ranges and flags, trends (Alice's HbA1c rising), a few deliberate cases the portal
  must show (a critical value, a corrected and a preliminary result, one-sided ranges,
  qualitative results, stopped medications), after-visit summaries and small PDFs written here.
  Codes that carebundle has no table for (CVX vaccines, urinalysis and ferritin LOINC codes,
  document types) are written here. As in carebundle, no SNOMED CT codes are used (licence):
  allergy reactions and visit types are text.

Every person, date and value is made up. Each bundle is a FHIR R4 `transaction` of PUTs with
stable ids, so it loads as it is into any FHIR server (POST it to the base URL) and again
without duplicates; the portal's importer can also read it as a plain list of resources.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

OUT = Path(__file__).resolve().parent.parent / "app" / "src" / "record" / "demo"

# ------------------------------------------------------------------------------------------------
# Checks: JSON, ids, references, the elements US Core requires, and (if installed) the R4 models
# ------------------------------------------------------------------------------------------------
REQUIRED = {
    "Patient": ["identifier", "name", "gender", "birthDate"],
    "Practitioner": ["identifier", "name"],
    "Organization": ["active", "name"],
    "Location": ["name"],
    "Observation": ["status", "category", "code", "subject", "effectiveDateTime"],
    "DiagnosticReport": ["status", "category", "code", "subject", "effectiveDateTime", "issued", "performer",
                         "result"],
    "MedicationRequest": ["status", "intent", "medicationCodeableConcept", "subject", "authoredOn", "requester",
                          "dosageInstruction"],
    "AllergyIntolerance": ["clinicalStatus", "verificationStatus", "code", "patient", "reaction"],
    "Immunization": ["status", "vaccineCode", "patient", "occurrenceDateTime", "primarySource"],
    "Condition": ["clinicalStatus", "verificationStatus", "category", "code", "subject"],
    "Encounter": ["status", "class", "type", "subject", "period", "participant"],
    "DocumentReference": ["status", "type", "category", "subject", "date", "author", "content"],
}


def check(bundle: dict) -> list[str]:
    problems = []
    ids = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    if len(ids) != len(bundle["entry"]):
        problems.append("duplicate ids")
    for e in bundle["entry"]:
        r = e["resource"]
        key = f"{r['resourceType']}/{r['id']}"
        if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", r["id"]):
            problems.append(f"{key}: not a FHIR id")
        for el in REQUIRED.get(r["resourceType"], []):
            if r.get(el) in (None, [], ""):
                problems.append(f"{key}: no {el}")
        if r["resourceType"] == "Observation" and not any(
                k.startswith("value") for k in r) and "component" not in r:
            problems.append(f"{key}: no value")
        if r["resourceType"] == "DocumentReference":
            a = r["content"][0]["attachment"]
            if base64.b64encode(hashlib.sha1(base64.b64decode(a["data"])).digest()).decode() != a["hash"]:
                problems.append(f"{key}: hash")

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("reference"), str) and node["reference"] not in ids:
                    problems.append(f"{key}: dangling reference {node['reference']}")
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(r)
    return problems


def check_r4_models(bundle: dict) -> str:
    try:
        import fhir.resources
        from fhir.resources import construct_fhir_element
    except ImportError:
        return "R4 models not checked (pip install fhir.resources==6.1.0 'pydantic[email]<2')"
    if fhir.resources.__fhir_version__ != "4.0.1":
        return f"R4 models not checked: fhir.resources is FHIR {fhir.resources.__fhir_version__}, not 4.0.1"
    construct_fhir_element("Bundle", bundle)
    return f"valid against the FHIR {fhir.resources.__fhir_version__} models of fhir.resources " \
           f"{fhir.resources.__version__}"


def check_files() -> int:
    """--check: the committed bundles, read back (needs no carebundle)."""
    failed = False
    for name in ("alice", "robert", "carol"):
        bundle = json.loads((OUT / f"{name}.json").read_text())
        problems = check(bundle)
        print(f"{name}.json: {len(bundle['entry'])} resources, {len(problems)} problems; {check_r4_models(bundle)}")
        for pr in problems:
            print("  PROBLEM", pr)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__" and sys.argv[1:] == ["--check"]:
    sys.exit(check_files())

from carebundle import generate_bundle, to_json
from carebundle.history import visits_of
from carebundle.terminology import codes as C
from carebundle.terminology.codes import Code
from carebundle.terminology import systems as S

TZ = ZoneInfo("America/New_York")

MRN_SYSTEM = "urn:oid:2.16.840.1.113883.3.9999.1"  # the demo clinic's record numbers (made up)
STAFF_ID_SYSTEM = "urn:oid:2.16.840.1.113883.3.9999.2"  # the demo clinic's staff ids (made up)
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CVX = "http://hl7.org/fhir/sid/cvx"
HTEST = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST",
         "display": "test health data"}

# ------------------------------------------------------------------------------------------------
# Codes carebundle has no table for (LOINC, CVX, ICD-10-CM, RxNorm ingredient)
# ------------------------------------------------------------------------------------------------
L = S.LOINC
PANEL_BMP = Code(L, "24321-2", "Basic metabolic 2000 panel - Serum or Plasma")
PANEL_LIPID = Code(L, "24331-1", "Lipid 1996 panel - Serum or Plasma")
PANEL_UA = Code(L, "24357-6", "Urinalysis macro (dipstick) panel - Urine")
FERRITIN = Code(L, "2276-4", "Ferritin [Mass/volume] in Serum or Plasma")
UA_COLOR = Code(L, "5778-6", "Color of Urine")
UA_CLARITY = Code(L, "5767-9", "Appearance of Urine")
UA_PH = Code(L, "5803-2", "pH of Urine by Test strip")
UA_PROTEIN = Code(L, "5804-0", "Protein [Mass/volume] in Urine by Test strip")
UA_GLUCOSE = Code(L, "25428-4", "Glucose [Presence] in Urine by Test strip")
UA_KETONES = Code(L, "5797-6", "Ketones [Mass/volume] in Urine by Test strip")
DOC_SUMMARY = Code(L, "34133-9", "Summary of episode note")
DOC_LAB = Code(L, "11502-2", "Laboratory report")
DOC_IMAGING = Code(L, "18748-4", "Diagnostic imaging study")
DOC_CONSULT = Code(L, "11488-4", "Consult note")

ICD = S.ICD10CM
ACUTE_BRONCHITIS = Code(ICD, "J20.9", "Acute bronchitis, unspecified")
KNEE_OA = Code(ICD, "M17.0", "Bilateral primary osteoarthritis of knee")
PREDIABETES = Code(ICD, "R73.03", "Prediabetes")
COUGH = Code(ICD, "R05.9", "Cough, unspecified")
GERD = Code(ICD, "K21.9", "Gastro-esophageal reflux disease without esophagitis")
ANKLE_SPRAIN = Code(ICD, "S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter")
RHINITIS = Code(ICD, "J30.2", "Other seasonal allergic rhinitis")

LISINOPRIL_INGREDIENT = Code(S.RXNORM, "29046", "lisinopril")

VACCINES = {
    "flu-hd4": ("197", "influenza, high-dose, quadrivalent", "Flu vaccine (high dose)"),
    "flu-hd": ("135", "Influenza, high dose seasonal", "Flu vaccine (high dose)"),
    "flu4": ("150", "Influenza, injectable, quadrivalent, preservative free", "Flu vaccine"),
    "flu": ("140", "Influenza, seasonal, injectable, preservative free", "Flu vaccine"),
    "covid-pfizer": ("208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose", "COVID-19 vaccine (Pfizer-BioNTech)"),
    "covid": ("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION", "COVID-19 vaccine (updated)"),
    "shingrix": ("187", "zoster vaccine recombinant", "Shingles vaccine (recombinant)"),
    "tdap": ("115", "Tdap", "Tdap (tetanus, diphtheria, whooping cough)"),
    "pcv13": ("133", "Pneumococcal conjugate PCV 13", "Pneumonia vaccine (PCV13)"),
    "ppsv23": ("33", "pneumococcal polysaccharide vaccine, 23 valent", "Pneumonia vaccine (PPSV23)"),
}

# ------------------------------------------------------------------------------------------------
# The clinic (in every bundle, same ids: importing all three changes nothing the second time)
# ------------------------------------------------------------------------------------------------
CLINIC_ADDRESS = {"line": ["100 Riverside Drive"], "city": "Riverside", "state": "ST", "postalCode": "00000",
                  "country": "US"}
DR_LEE = ("Practitioner", "dr-morgan-lee", "Dr. Morgan Lee")
NURSE_KIM = ("Practitioner", "kim-alvarez-rn", "Kim Alvarez, RN")
DR_SHAH = ("Practitioner", "dr-priya-shah", "Dr. Priya Shah, MD")
CLINIC = ("Organization", "riverside-clinic", "Riverside Community Clinic")
LAB = ("Organization", "riverside-clinic-lab", "Riverside Community Clinic Laboratory")
FAMILY_MEDICINE = ("Location", "family-medicine", "Family Medicine")


def ref(target, display: str | None = None) -> dict:
    rtype, rid, name = target
    return {"reference": f"{rtype}/{rid}", "display": display or name}


def clinic_resources() -> list[dict]:
    def practitioner(t, family, given, prefix, suffix, qual):
        r = {"resourceType": "Practitioner", "id": t[1], "meta": {"profile": [US_CORE + "us-core-practitioner"]},
             "identifier": [{"system": STAFF_ID_SYSTEM, "value": t[1]}], "active": True,
             "name": [{"use": "official", "text": t[2], "family": family, "given": [given]}],
             "telecom": [{"system": "phone", "value": "555-0100", "use": "work"}],
             "address": [CLINIC_ADDRESS], "qualification": [{"code": {"text": qual}}]}
        if prefix:
            r["name"][0]["prefix"] = [prefix]
        if suffix:
            r["name"][0]["suffix"] = [suffix]
        return r

    return [
        {"resourceType": "Organization", "id": CLINIC[1], "meta": {"profile": [US_CORE + "us-core-organization"]},
         "identifier": [{"system": STAFF_ID_SYSTEM, "value": CLINIC[1]}], "active": True, "name": CLINIC[2],
         "telecom": [{"system": "phone", "value": "555-0100", "use": "work"}], "address": [CLINIC_ADDRESS]},
        {"resourceType": "Organization", "id": LAB[1], "meta": {"profile": [US_CORE + "us-core-organization"]},
         "identifier": [{"system": STAFF_ID_SYSTEM, "value": LAB[1]}], "active": True, "name": LAB[2],
         "telecom": [{"system": "phone", "value": "555-0140", "use": "work"}], "address": [CLINIC_ADDRESS],
         "partOf": ref(CLINIC)},
        {"resourceType": "Location", "id": FAMILY_MEDICINE[1], "meta": {"profile": [US_CORE + "us-core-location"]},
         "status": "active", "name": FAMILY_MEDICINE[2], "address": CLINIC_ADDRESS,
         "managingOrganization": ref(CLINIC)},
        practitioner(DR_LEE, "Lee", "Morgan", "Dr.", None, "Doctor of Medicine, Family Medicine"),
        practitioner(NURSE_KIM, "Alvarez", "Kim", None, "RN", "Registered Nurse"),
        practitioner(DR_SHAH, "Shah", "Priya", "Dr.", "MD", "Doctor of Medicine, Clinical Pathology"),
    ]


# ------------------------------------------------------------------------------------------------
# Laboratory tests: code, name shown, unit, decimals, reference range (by sex), critical limits
# ------------------------------------------------------------------------------------------------
UNIT_NG_ML = ("ng/mL", "ng/mL")
UNIT_PH = ("pH", "[pH]")
TESTS = {
    # key: (code, name, unit, decimals, {sex: (low, high)} or None, (critical low, critical high))
    "na": (C.SODIUM, "Sodium", C.UNIT_MMOL_L, 0, {"*": (136, 145)}, (120, 160)),
    "k": (C.POTASSIUM, "Potassium", C.UNIT_MMOL_L, 1, {"*": (3.5, 5.1)}, (2.8, 6.0)),
    "cl": (C.CHLORIDE, "Chloride", C.UNIT_MMOL_L, 0, {"*": (98, 107)}, (None, None)),
    "co2": (C.CO2, "Carbon dioxide (bicarbonate)", C.UNIT_MMOL_L, 0, {"*": (22, 29)}, (None, None)),
    "bun": (C.BUN, "Urea nitrogen (BUN)", C.UNIT_MG_DL, 0, {"*": (7, 25)}, (None, None)),
    "creat": (C.CREATININE, "Creatinine", C.UNIT_MG_DL, 2, {"F": (0.50, 1.05), "M": (0.70, 1.30)}, (None, None)),
    "egfr": (C.EGFR, "eGFR (CKD-EPI 2021)", C.UNIT_EGFR, 0, {"*": (60, None)}, (None, None)),
    "glu": (C.GLUCOSE, "Glucose", C.UNIT_MG_DL, 0, {"*": (70, 99)}, (40, 450)),
    "ca": (C.CALCIUM, "Calcium", C.UNIT_MG_DL, 1, {"*": (8.6, 10.3)}, (6.0, 13.0)),
    "alb": (C.ALBUMIN, "Albumin", C.UNIT_G_DL, 1, {"*": (3.5, 5.2)}, (None, None)),
    "alt": (C.ALT, "ALT", C.UNIT_IU_L, 0, {"F": (7, 35), "M": (7, 55)}, (None, None)),
    "ast": (C.AST, "AST", C.UNIT_IU_L, 0, {"F": (10, 35), "M": (10, 40)}, (None, None)),
    "alp": (C.ALKALINE_PHOSPHATASE, "Alkaline phosphatase", C.UNIT_IU_L, 0, {"*": (44, 147)}, (None, None)),
    "bili": (C.BILIRUBIN_TOTAL, "Bilirubin, total", C.UNIT_MG_DL, 1, {"*": (0.2, 1.2)}, (None, None)),
    "chol": (C.CHOLESTEROL_TOTAL, "Total cholesterol", C.UNIT_MG_DL, 0, {"*": (None, 200)}, (None, None)),
    "hdl": (C.HDL, "HDL cholesterol", C.UNIT_MG_DL, 0, {"F": (50, None), "M": (40, None)}, (None, None)),
    "ldl": (C.LDL_CALCULATED, "LDL cholesterol (calculated)", C.UNIT_MG_DL, 0, {"*": (None, 100)}, (None, None)),
    "trig": (C.TRIGLYCERIDES, "Triglycerides", C.UNIT_MG_DL, 0, {"*": (None, 150)}, (None, None)),
    "wbc": (C.WBC, "White blood cells", C.UNIT_K_PER_UL, 1, {"*": (3.8, 10.8)}, (1.0, 30.0)),
    "rbc": (C.RBC, "Red blood cells", C.UNIT_M_PER_UL, 2, {"F": (3.80, 5.10), "M": (4.20, 5.80)}, (None, None)),
    "hgb": (C.HEMOGLOBIN, "Hemoglobin", C.UNIT_G_DL, 1, {"F": (12.0, 15.5), "M": (13.2, 17.1)}, (7.0, 20.0)),
    "hct": (C.HEMATOCRIT, "Hematocrit", C.UNIT_PERCENT, 1, {"F": (35.0, 45.0), "M": (38.5, 50.0)}, (None, None)),
    "plt": (C.PLATELETS, "Platelets", C.UNIT_K_PER_UL, 0, {"*": (140, 400)}, (20, 1000)),
    "a1c": (C.HBA1C, "Hemoglobin A1c", C.UNIT_PERCENT, 1, {"*": (4.0, 5.6)}, (None, None)),
    "uacr": (C.UACR, "Albumin/creatinine ratio, urine", C.UNIT_MG_G, 0, {"*": (None, 30)}, (None, None)),
    "ferritin": (FERRITIN, "Ferritin", UNIT_NG_ML, 0, {"F": (15, 150), "M": (30, 400)}, (None, None)),
    "ua_ph": (UA_PH, "pH, urine", UNIT_PH, 1, {"*": (5.0, 8.0)}, (None, None)),
    # qualitative: value is text (valueString) or "NEG" (valueCodeableConcept, HL7 interpretation code)
    "ua_color": (UA_COLOR, "Color, urine", None, None, {"*": "Yellow"}, None),
    "ua_clarity": (UA_CLARITY, "Appearance, urine", None, None, {"*": "Clear"}, None),
    "ua_protein": (UA_PROTEIN, "Protein, urine", None, None, {"*": "Negative"}, None),
    "ua_glucose": (UA_GLUCOSE, "Glucose, urine", None, None, {"*": "Negative"}, None),
    "ua_ketones": (UA_KETONES, "Ketones, urine", None, None, {"*": "Negative"}, None),
}
PANELS = {
    "cmp": (C.PANEL_METABOLIC_COMPREHENSIVE, "Comprehensive metabolic panel",
            ["na", "k", "cl", "co2", "bun", "creat", "egfr", "glu", "ca", "alb", "alt", "ast", "alp", "bili"]),
    "bmp": (PANEL_BMP, "Basic metabolic panel", ["na", "k", "cl", "co2", "bun", "creat", "egfr", "glu", "ca"]),
    "lipid": (PANEL_LIPID, "Lipid panel", ["chol", "hdl", "ldl", "trig"]),
    "cbc": (C.PANEL_CBC, "Complete blood count (CBC)", ["wbc", "rbc", "hgb", "hct", "plt"]),
    "a1c": (C.HBA1C, "Hemoglobin A1c", ["a1c"]),
    "uacr": (C.UACR, "Urine albumin/creatinine ratio", ["uacr"]),
    "ua": (PANEL_UA, "Urinalysis", ["ua_color", "ua_clarity", "ua_ph", "ua_protein", "ua_glucose", "ua_ketones"]),
    "ferritin": (FERRITIN, "Ferritin", ["ferritin"]),
    "k": (C.POTASSIUM, "Potassium", ["k"]),
}
# minutes after collection when each panel is resulted
TURNAROUND = {"cbc": 95, "a1c": 300, "uacr": 330, "ua": 70, "ferritin": 1000}
CV = {"na": .012, "k": .04, "cl": .012, "co2": .04, "bun": .10, "alb": .03, "alt": .12, "ast": .10, "alp": .07,
      "bili": .12, "ca": .02, "wbc": .08, "rbc": .025, "hgb": .025, "hct": .025, "plt": .07, "hdl": .05,
      "trig": .10, "uacr": .15, "ua_ph": .06, "ferritin": .10}
# baselines for tests carebundle does not draw
DEFAULT_BASELINE = {"ua_ph": 6.0, "ferritin": 60, "uacr": 12}


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------
def at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=TZ)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def ymd(day: str) -> str:
    return day.replace("-", "")


def concept(code: Code, text: str | None = None) -> dict:
    return {"coding": [{"system": code.system, "code": code.code, "display": code.display}],
            "text": text or code.display}


def coding(system: str, code: str, display: str, text: str | None = None) -> dict:
    c = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        c["text"] = text
    return c


def quantity(value, unit) -> dict:
    display, code = unit
    return {"value": value, "unit": display, "system": S.UCUM, "code": code}


def rnd(value: float, decimals: int):
    v = round(value, decimals)
    return int(v) if decimals == 0 else v


def attachment(content_type: str, data: bytes, title: str, created: str) -> dict:
    return {"contentType": content_type, "language": "en-US", "data": base64.b64encode(data).decode(),
            "size": len(data), "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),
            "title": title, "creation": created}


def egfr_ckd_epi_2021(creat: float, age: float, sex: str) -> float:
    k, a = (0.7, -0.241) if sex == "F" else (0.9, -0.302)
    v = 142 * min(creat / k, 1) ** a * max(creat / k, 1) ** -1.200 * 0.9938 ** age
    return v * 1.012 if sex == "F" else v


def age_on(birth: str, day: str) -> float:
    return (dt.date.fromisoformat(day) - dt.date.fromisoformat(birth)).days / 365.25


def long_date(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.day} {d.strftime('%B %Y')}"


# ------------------------------------------------------------------------------------------------
# A minimal, valid PDF (one page, Helvetica), written by hand
# ------------------------------------------------------------------------------------------------
def pdf(title: str, lines: list[str], when: str) -> bytes:
    def esc(s: str) -> str:
        s.encode("ascii")  # the standard fonts here are used with ASCII text only
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["0.6 w 72 718 m 540 718 l S", "BT /F2 15 Tf 72 730 Td (" + esc(title) + ") Tj ET",
           "BT /F1 10.5 Tf 15 TL 72 696 Td"]
    for i, line in enumerate(lines):
        bold = line.startswith("## ")
        text = line[3:] if bold else line
        ops.append(("" if i == 0 else "T* ") + f"/{'F2' if bold else 'F1'} 10.5 Tf (" + esc(text) + ") Tj")
    ops.append("ET")
    ops.append("BT /F1 8 Tf 72 40 Td (Synthetic demo record - not a real person. Riverside Community Clinic, "
               "100 Riverside Drive, Riverside, ST 00000.) Tj ET")
    stream = "\n".join(ops).encode("ascii")
    stamp = dt.datetime.fromisoformat(when)
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S") + stamp.strftime("%z")[:3] + "'" + stamp.strftime("%z")[3:] + "'"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        ("<< /Title (" + esc(title) + ") /Producer (make-demo-record.py) /CreationDate (" + pdf_date + ") >>").encode(),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ------------------------------------------------------------------------------------------------
# What carebundle drew for each patient
# ------------------------------------------------------------------------------------------------
def carebundle_draw(profile: str, seed: int, sex: str, ages: tuple[int, int], on: dt.date) -> dict:
    b = json.loads(to_json(generate_bundle(profile=profile, seed=seed, sex=sex, age_range=ages, reference_date=on)))
    values = {}
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Observation":
            code = r["code"]["coding"][0]["code"]
            if "valueQuantity" in r:
                values[code] = r["valueQuantity"]["value"]
            elif "component" in r:
                values[code] = tuple(c["valueQuantity"]["value"] for c in r["component"])
    by_key = {k: values[t[0].code] for k, t in TESTS.items() if t[0].code in values}
    by_key.update(height=values["8302-2"], weight=values["29463-7"], hr=values["8867-4"], bp=values["85354-9"])
    return by_key


# ------------------------------------------------------------------------------------------------
# The record of one patient
# ------------------------------------------------------------------------------------------------
class Record:
    def __init__(self, key: str, mrn: str, given: str, family: str, birth: str, sex: str, seed: str,
                 street: str, email: str, phone: str):
        self.key, self.mrn, self.given, self.family, self.birth, self.sex = key, mrn, given, family, birth, sex
        self.name = f"{given} {family}"
        self.rng = random.Random(seed)
        self.resources: list[dict] = []
        self.conditions: dict[str, dict] = {}
        self.patient = {
            "resourceType": "Patient", "id": key,
            "meta": {"profile": [US_CORE + "us-core-patient"], "security": [HTEST]},
            "identifier": [{"use": "usual",
                            "type": coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                                           "Medical record number", "MRN"),
                            "system": MRN_SYSTEM, "value": mrn}],
            "active": True,
            "name": [{"use": "official", "family": family, "given": [given]}],
            "telecom": [{"system": "phone", "value": phone, "use": "home"},
                        {"system": "email", "value": email}],
            "gender": {"F": "female", "M": "male"}[sex], "birthDate": birth,
            "address": [{"use": "home", "line": [street], "city": "Riverside", "state": "ST", "postalCode": "00000",
                         "country": "US"}],
            "communication": [{"language": coding("urn:ietf:bcp:47", "en-US", "English (United States)"),
                               "preferred": True}],
            "generalPractitioner": [ref(DR_LEE)], "managingOrganization": ref(CLINIC),
        }
        self.pref = {"reference": f"Patient/{key}"}

    def add(self, r: dict) -> dict:
        self.resources.append(r)
        return r

    # ---- problems, allergies, medications, immunizations ----
    def condition(self, slug: str, code: Code, text: str, onset: str, abated: str | None = None,
                  category: str = "problem-list-item", encounter: str | None = None, note: str | None = None):
        diagnosis = category == "encounter-diagnosis"
        r = {"resourceType": "Condition", "id": f"{self.key}-cond-{slug}",
             "meta": {"profile": [US_CORE + ("us-core-condition-encounter-diagnosis" if diagnosis
                                             else "us-core-condition-problems-health-concerns")]},
             "clinicalStatus": coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                      "resolved" if abated else "active", "Resolved" if abated else "Active"),
             "verificationStatus": coding("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                          "confirmed", "Confirmed"),
             "category": [coding("http://terminology.hl7.org/CodeSystem/condition-category", category,
                                 "Encounter Diagnosis" if diagnosis else "Problem List Item")],
             "code": concept(code, text), "subject": self.pref, "onsetDateTime": onset}
        if encounter:
            r["encounter"] = {"reference": f"Encounter/{self.key}-enc-{ymd(encounter)}"}
        if abated:
            r["abatementDateTime"] = abated
        r["recordedDate"] = encounter or onset
        r["recorder"] = ref(DR_LEE)
        if note:
            r["note"] = [{"text": note}]
        self.conditions[slug] = r
        return self.add(r)

    def allergy(self, slug: str, code: Code, text: str, kind: str, reaction: str, severity: str, criticality: str,
                onset: str, recorded: str, note: str | None = None):
        r = {"resourceType": "AllergyIntolerance", "id": f"{self.key}-allergy-{slug}",
             "meta": {"profile": [US_CORE + "us-core-allergyintolerance"]},
             "clinicalStatus": coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                      "active", "Active"),
             "verificationStatus": coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                          "confirmed", "Confirmed"),
             "type": kind, "category": ["medication"], "criticality": criticality,
             "code": concept(code, text), "patient": self.pref, "onsetDateTime": onset, "recordedDate": recorded,
             "recorder": ref(DR_LEE),
             "reaction": [{"manifestation": [{"text": reaction}], "severity": severity}]}
        if note:
            r["note"] = [{"text": note}]
        return self.add(r)

    def medication(self, slug: str, code: Code, text: str, sig: str, authored: str, status: str = "active",
                   ended: str | None = None, reason: str | None = None, prn: bool = False, why: str | None = None,
                   refills: int = 3, days: int = 90):
        r = {"resourceType": "MedicationRequest", "id": f"{self.key}-med-{slug}",
             "meta": {"profile": [US_CORE + "us-core-medicationrequest"]}, "status": status}
        if reason:
            r["statusReason"] = {"text": reason}
        r.update({
            "intent": "order",
            "category": [coding("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community",
                                "Community")],
            "medicationCodeableConcept": concept(code, text), "subject": self.pref,
            "authoredOn": authored, "requester": ref(DR_LEE)})
        if why:
            r["reasonReference"] = [{"reference": f"Condition/{self.key}-cond-{why}",
                                     "display": self.conditions[why]["code"]["text"]}]
        bounds = {"start": authored} | ({"end": ended} if ended else {})
        dosage = {"text": sig, "timing": {"repeat": {"boundsPeriod": bounds}}}
        if prn:
            dosage["asNeededBoolean"] = True
        r["dosageInstruction"] = [dosage]
        r["dispenseRequest"] = {"numberOfRepeatsAllowed": refills,
                                "expectedSupplyDuration": {"value": days, "unit": "days", "system": S.UCUM,
                                                           "code": "d"}}
        return self.add(r)

    def immunization(self, day: str, vaccine: str, lot: str, site: str = "Left arm"):
        cvx, display, text = VACCINES[vaccine]
        return self.add({
            "resourceType": "Immunization", "id": f"{self.key}-imm-{ymd(day)}-{vaccine}",
            "meta": {"profile": [US_CORE + "us-core-immunization"]}, "status": "completed",
            "vaccineCode": coding(CVX, cvx, display, text), "patient": self.pref,
            "occurrenceDateTime": iso(at(day, "10:15")), "primarySource": True,
            "location": ref(FAMILY_MEDICINE), "lotNumber": lot, "site": {"text": site},
            "route": coding("http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "IM",
                            "Injection, intramuscular"),
            "performer": [{"actor": ref(NURSE_KIM)}]})

    # ---- visits ----
    def visit(self, day: str, start: str, reason: str, *, problems=(), diagnoses=(), vitals=None, height=False,
              labs: dict | None = None, discussed=(), changes=(), next_steps=(), minutes: int = 25,
              kind: str = "Office visit, established patient"):
        """An office visit: Encounter, vital signs, labs drawn there, and its after-visit summary."""
        t0 = at(day, start)
        t1 = t0 + dt.timedelta(minutes=minutes)
        eid = f"{self.key}-enc-{ymd(day)}"
        refs = [{"reference": f"Condition/{self.key}-cond-{c}", "display": self.conditions[c]["code"]["text"]}
                for c in (*problems, *diagnoses)]
        enc = {"resourceType": "Encounter", "id": eid, "meta": {"profile": [US_CORE + "us-core-encounter"]},
               "status": "finished",
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                         "display": "ambulatory"},
               "type": [{"text": kind}], "subject": self.pref,
               "participant": [{"type": [coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                                "PPRF", "primary performer")],
                                "period": {"start": iso(t0), "end": iso(t1)}, "individual": ref(DR_LEE)}],
               "period": {"start": iso(t0), "end": iso(t1)},
               "reasonCode": [{"text": reason}]}
        if refs:
            enc["reasonReference"] = refs
            enc["diagnosis"] = [{"condition": r, "rank": i + 1} for i, r in enumerate(refs)]
        enc["location"] = [{"location": ref(FAMILY_MEDICINE), "status": "completed"}]
        enc["serviceProvider"] = ref(CLINIC)
        self.add(enc)
        shown = []
        if vitals:
            shown = self.vital_signs(day, t0 + dt.timedelta(minutes=3), eid, vitals, height)
        ordered = []
        for panel, spec in (labs or {}).items():
            self.lab(day, t0 + dt.timedelta(minutes=minutes + 10), panel, spec, eid)
            ordered.append(PANELS[panel][1])
        self.after_visit_summary(day, t1, eid, reason, shown, problems, diagnoses, discussed, changes, ordered,
                                 next_steps)

    def vital_signs(self, day, t, eid, v, height) -> list[str]:
        def obs(slug, profile, code, **value):
            return self.add({
                "resourceType": "Observation", "id": f"{self.key}-obs-{ymd(day)}-{slug}",
                "meta": {"profile": [US_CORE + profile]}, "status": "final",
                "category": [coding(S.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
                "code": concept(code), "subject": self.pref, "encounter": {"reference": f"Encounter/{eid}"},
                "effectiveDateTime": iso(t), "performer": [ref(NURSE_KIM)], **value})

        sys_, dia, hr, weight = v["bp"][0], v["bp"][1], v["hr"], v["weight"]
        bp = obs("bp", "us-core-blood-pressure", C.BP_PANEL, component=[
            {"code": concept(C.BP_SYSTOLIC), "valueQuantity": quantity(sys_, C.UNIT_MMHG)},
            {"code": concept(C.BP_DIASTOLIC), "valueQuantity": quantity(dia, C.UNIT_MMHG)}])
        bp["code"]["text"] = "Blood pressure"
        obs("weight", "us-core-body-weight", C.BODY_WEIGHT, valueQuantity=quantity(weight, C.UNIT_KG))
        bmi = rnd(weight / (v["height"] / 100) ** 2, 1)
        obs("bmi", "us-core-bmi", C.BMI, valueQuantity=quantity(bmi, C.UNIT_KG_M2))
        obs("hr", "us-core-heart-rate", C.HEART_RATE, valueQuantity=quantity(hr, C.UNIT_BPM))
        shown = [f"Blood pressure: {sys_}/{dia} mmHg", f"Pulse: {hr} beats/minute",
                 f"Weight: {weight} kg    BMI: {bmi} kg/m2"]
        if height:
            obs("height", "us-core-body-height", C.BODY_HEIGHT, valueQuantity=quantity(v["height"], C.UNIT_CM))
            shown.append(f"Height: {v['height']} cm")
        return shown

    def lab(self, day: str, collected: dt.datetime, panel: str, spec: dict, eid: str | None):
        """One ordered test or panel: its Observations and the DiagnosticReport grouping them.

        spec: analyte -> value, plus optional keys: status (final, preliminary, corrected), notes
        {analyte: text}, conclusion, issued_after (minutes), corrected {analyte: text}."""
        code, title, members = PANELS[panel]
        status = spec.get("status", "final")
        issued = collected + dt.timedelta(minutes=spec.get("issued_after", TURNAROUND.get(panel, 240)))
        tag = spec.get("tag", panel)
        results = []
        for key in members:
            tcode, name, unit, decimals, ranges, critical = TESTS[key]
            slug = key.replace("_", "-")
            oid = f"{self.key}-obs-{ymd(day)}-{slug}" if panel != "k" else f"{self.key}-obs-{ymd(day)}-k-repeat"
            obs_status = spec.get("statuses", {}).get(key, status if status != "corrected" else "final")
            o = {"resourceType": "Observation", "id": oid,
                 "meta": {"profile": [US_CORE + "us-core-observation-lab"]}, "status": obs_status,
                 "category": [coding(S.OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
                 "code": concept(tcode, name), "subject": self.pref}
            if eid:
                o["encounter"] = {"reference": f"Encounter/{eid}"}
            o["effectiveDateTime"] = iso(collected)
            o["issued"] = iso(issued)
            value = spec[key]
            rng_ = ranges.get(self.sex, ranges.get("*"))
            if unit is None:  # qualitative
                if value == "Negative":
                    o["valueCodeableConcept"] = coding(INTERP, "NEG", "Negative", "Negative")
                else:
                    o["valueString"] = value
                flag = "N" if value == rng_ else "A"
                o["interpretation"] = [coding(INTERP, flag, {"N": "Normal", "A": "Abnormal"}[flag])]
                o["referenceRange"] = [{"text": rng_}]
            else:
                value = rnd(value, decimals)
                o["valueQuantity"] = quantity(value, unit)
                low, high = rng_
                clow, chigh = critical
                flag = ("LL" if clow is not None and value < clow else "HH" if chigh is not None and value > chigh
                        else "L" if low is not None and value < low else "H" if high is not None and value > high
                        else "N")
                o["interpretation"] = [coding(INTERP, flag, {"N": "Normal", "H": "High", "L": "Low",
                                                             "HH": "Critical high", "LL": "Critical low"}[flag])]
                rr = {}
                if low is not None:
                    rr["low"] = quantity(low, unit)
                if high is not None:
                    rr["high"] = quantity(high, unit)
                o["referenceRange"] = [rr]
            if key in spec.get("corrected", {}):
                o["status"] = "corrected"
                o["note"] = [{"text": spec["corrected"][key]}]
            if key in spec.get("notes", {}):
                o.setdefault("note", []).append({"text": spec["notes"][key]})
            self.add(o)
            results.append(o)
        dr = {"resourceType": "DiagnosticReport", "id": f"{self.key}-dr-{ymd(day)}-{tag}",
              "meta": {"profile": [US_CORE + "us-core-diagnosticreport-lab"]}, "status": status,
              "category": [coding("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
              "code": concept(code, title), "subject": self.pref}
        if eid:
            dr["encounter"] = {"reference": f"Encounter/{eid}"}
        dr["effectiveDateTime"] = iso(collected)
        dr["issued"] = iso(issued + dt.timedelta(days=spec.get("corrected_days", 0)))
        # The clinician who ordered the tests (and receives the results), then the laboratory.
        dr["performer"] = [ref(DR_LEE), ref(LAB)]
        dr["resultsInterpreter"] = [ref(DR_SHAH)]
        dr["result"] = [{"reference": f"Observation/{o['id']}", "display": o["code"]["text"]} for o in results]
        if spec.get("conclusion"):
            dr["conclusion"] = spec["conclusion"]
        self.add(dr)

    def after_visit_summary(self, day, t1, eid, reason, shown, problems, diagnoses, discussed, changes, ordered,
                            next_steps):
        lines = ["AFTER VISIT SUMMARY", "Riverside Community Clinic - Family Medicine",
                 "100 Riverside Drive, Riverside, ST 00000 - 555-0100", "",
                 f"Patient: {self.name}    Date of birth: {self.birth}    MRN: {self.mrn}",
                 f"Visit: {long_date(day)} with Dr. Morgan Lee", f"Reason for visit: {reason}", ""]
        if shown:
            lines += ["Your vital signs today"] + [f"  {s}" for s in shown] + [""]
        dx = [self.conditions[c]["code"]["text"] for c in (*problems, *diagnoses)]
        if dx:
            lines += ["Health issues addressed"] + [f"  - {d}" for d in dx] + [""]
        if discussed:
            lines += ["What we discussed"] + [f"  - {d}" for d in discussed] + [""]
        lines += ["Medication changes"] + ([f"  - {c}" for c in changes] or ["  - No changes to your medicines."])
        lines += [""]
        if ordered:
            lines += ["Tests ordered today"] + [f"  - {o}" for o in ordered] + [
                "  Results appear in My Medical Record as soon as they are ready.", ""]
        if next_steps:
            lines += ["Next steps"] + [f"  - {n}" for n in next_steps] + [""]
        lines += ["Questions? Send a message to your care team through the patient portal,",
                  "or call 555-0100. In an emergency, call 911."]
        text = "\n".join(lines) + "\n"
        written = t1 + dt.timedelta(minutes=20)
        self.add({
            "resourceType": "DocumentReference", "id": f"{self.key}-doc-{ymd(day)}-avs",
            "meta": {"profile": [US_CORE + "us-core-documentreference"]}, "status": "current", "docStatus": "final",
            "type": concept(DOC_SUMMARY, "After Visit Summary"),
            "category": [coding("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                "clinical-note", "Clinical Note")],
            "subject": self.pref, "date": iso(written), "author": [ref(DR_LEE)], "custodian": ref(CLINIC),
            "description": f"After Visit Summary, {long_date(day)}",
            "content": [{"attachment": attachment("text/plain", text.encode("ascii"),
                                                  f"After Visit Summary - {long_date(day)}", iso(written)),
                         "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                                    "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                                    "display": "mimeType Sufficient"}}],
            "context": {"encounter": [{"reference": f"Encounter/{eid}"}],
                        "period": {"start": iso(t1 - dt.timedelta(minutes=25)), "end": iso(t1)}}})

    def pdf_document(self, slug: str, day: str, time: str, type_code: Code, type_text: str, title: str,
                     body: list[str], author: tuple | dict, eid: str | None = None):
        when = iso(at(day, time))
        header = [f"Patient: {self.name}    Date of birth: {self.birth}    MRN: {self.mrn}",
                  f"Date: {long_date(day)}", ""]
        data = pdf(title, header + body, when)
        r = {"resourceType": "DocumentReference", "id": f"{self.key}-doc-{ymd(day)}-{slug}",
             "meta": {"profile": [US_CORE + "us-core-documentreference"]}, "status": "current", "docStatus": "final",
             "type": concept(type_code, type_text),
             "category": [coding("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                 "clinical-note", "Clinical Note")],
             "subject": self.pref, "date": when,
             "author": [author if isinstance(author, dict) else ref(author)], "custodian": ref(CLINIC),
             "description": title,
             "content": [{"attachment": attachment("application/pdf", data, f"{title}.pdf", when),
                          "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                                     "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                                     "display": "mimeType Sufficient"}}],
             "context": {"period": {"start": when, "end": when}}}
        if eid:
            r["context"]["encounter"] = [{"reference": f"Encounter/{eid}"}]
        return self.add(r)

    # ---- values ----
    def noisy(self, key: str, base: float) -> float:
        return base * (1 + self.rng.gauss(0, CV.get(key, 0.05)))

    def panel_values(self, panel: str, base: dict, day: str, **fixed) -> dict:
        """Values for one panel: the patient's baseline with visit-to-visit variation, computed
        identities (eGFR from creatinine, LDL by Friedewald, glucose from HbA1c), overrides."""
        out = {}
        members = PANELS[panel][2]
        for k in members:
            if k in fixed:
                out[k] = fixed[k]
            elif TESTS[k][2] is None:
                out[k] = TESTS[k][4]["*"]
            elif k == "egfr":
                continue
            elif k == "ldl":
                continue
            elif k == "glu":
                a1c = fixed.get("a1c_for_glucose", base.get("a1c_now"))
                out[k] = (28.7 * a1c - 46.7) * (1 + self.rng.gauss(0, 0.08)) if a1c else self.noisy(k, base["glu"])
            elif k == "creat":
                out[k] = base["creat_now"] * (1 + self.rng.gauss(0, 0.04))
            elif k == "chol":
                out[k] = base["chol_now"] * (1 + self.rng.gauss(0, 0.04))
            elif k in ("hgb", "hct", "rbc") and "anemia" in base:
                out[k] = base[k] * base["anemia"] * (1 + self.rng.gauss(0, 0.02))
            else:
                out[k] = self.noisy(k, base.get(k, DEFAULT_BASELINE.get(k)))
        if "egfr" in members:
            out["egfr"] = fixed.get("egfr", egfr_ckd_epi_2021(rnd(out["creat"], 2), age_on(self.birth, day), self.sex))
        if "ldl" in members:
            out["ldl"] = fixed.get("ldl", rnd(out["chol"], 0) - rnd(out["hdl"], 0) - rnd(out["trig"], 0) / 5)
        if "hct" in out and "hct" not in fixed:
            out["hct"] = rnd(out["hgb"], 1) * 3.0 * (1 + self.rng.gauss(0, 0.01))
        for k in ("notes", "status", "conclusion", "corrected", "issued_after", "statuses", "tag",
                  "corrected_days"):
            if k in fixed:
                out[k] = fixed[k]
        return out

    def bundle(self) -> dict:
        entries = []
        for r in [*clinic_resources(), self.patient, *self.resources]:
            url = f"{r['resourceType']}/{r['id']}"
            entries.append({"resource": r, "request": {"method": "PUT", "url": url}})
        return {"resourceType": "Bundle", "id": f"demo-record-{self.key}", "meta": {"security": [HTEST]},
                "type": "transaction", "entry": entries}


# ================================================================================================
# Alice Johnson (MRN100001): type 2 diabetes with HbA1c rising, hypertension, high cholesterol
# ================================================================================================
def alice() -> Record:
    p = Record("alice", "MRN100001", "Alice", "Johnson", "1948-03-12", "F", "alice-2026", "12 Elm Street",
               "alice.johnson@example.org", "555-0111")
    d = carebundle_draw("type2_diabetes", 7, "F", (72, 73), dt.date(2021, 2, 8))
    base = dict(d)
    base["chol_now"] = d["chol"]
    weight0, height = d["weight"], d["height"]

    p.condition("t2dm", C.T2DM_NO_COMPLICATIONS, "Type 2 diabetes", "2016-05-10")
    p.condition("htn", C.ESSENTIAL_HYPERTENSION, "High blood pressure (hypertension)", "2012-09-18")
    p.condition("chol", C.PURE_HYPERCHOLESTEROLEMIA, "High cholesterol", "2014-03-03")
    p.condition("obesity", C.OBESITY, "Obesity", "2016-05-10")
    p.condition("knee-oa", KNEE_OA, "Osteoarthritis of both knees", "2019-10-07")
    p.condition("bronchitis", ACUTE_BRONCHITIS, "Acute bronchitis", "2023-01-12", abated="2023-02-06",
                category="encounter-diagnosis", encounter="2023-01-17")

    p.allergy("penicillin", C.ALLERGEN_PENICILLIN_G, "Penicillin", "allergy", "Hives", "moderate", "high",
              "1975", "2016-05-10", note="Hives and swelling of the lips after penicillin injection in 1975.")
    p.allergy("codeine", C.ALLERGEN_CODEINE, "Codeine", "intolerance", "Nausea and vomiting", "mild", "low",
              "2019-10", "2019-10-07")

    p.medication("metformin-500", C.METFORMIN_500, "Metformin 500 mg tablet",
                 "Take 1 tablet by mouth twice a day with meals.", "2016-05-10", status="stopped",
                 ended="2023-11-20", reason="Dose increased to 1000 mg", why="t2dm")
    p.medication("metformin-1000", C.METFORMIN_1000, "Metformin 1000 mg tablet",
                 "Take 1 tablet by mouth twice a day with meals.", "2023-11-20", why="t2dm")
    p.medication("empagliflozin", C.EMPAGLIFLOZIN_10, "Empagliflozin 10 mg tablet",
                 "Take 1 tablet by mouth every morning.", "2026-11-23", why="t2dm")
    p.medication("hctz", C.HYDROCHLOROTHIAZIDE_25, "Hydrochlorothiazide 25 mg tablet",
                 "Take 1 tablet by mouth every morning.", "2012-09-18", why="htn")
    p.medication("losartan", C.LOSARTAN_50, "Losartan 50 mg tablet", "Take 1 tablet by mouth once a day.",
                 "2018-04-02", why="htn")
    p.medication("atorvastatin", C.ATORVASTATIN_20, "Atorvastatin 20 mg tablet",
                 "Take 1 tablet by mouth at bedtime.", "2014-03-03", why="chol")

    for day, vaccine, lot in [("2019-10-21", "pcv13", "PC3318A"), ("2020-10-19", "ppsv23", "PP2207B"),
                              ("2021-01-25", "covid-pfizer", "EL9262"), ("2021-02-15", "covid-pfizer", "EN6201"),
                              ("2021-10-04", "flu-hd4", "UT7021AA"), ("2021-10-25", "covid-pfizer", "FF2588"),
                              ("2022-03-07", "shingrix", "SG9K27"), ("2022-06-06", "shingrix", "SG9L44"),
                              ("2022-10-03", "flu-hd4", "UT7488BA"), ("2023-10-02", "flu-hd4", "UT8012CA"),
                              ("2023-10-02", "covid", "HH7301"), ("2024-10-07", "flu-hd", "UT8430DA"),
                              ("2024-10-07", "covid", "LM2216"), ("2025-10-06", "flu-hd", "UT8917EA"),
                              ("2025-10-06", "covid", "PX4409"), ("2026-10-05", "flu-hd", "UT9356FA")]:
        p.immunization(day, vaccine, lot, site="Left arm" if vaccine.startswith("flu") else "Right arm")

    a1c = {"2021-02-08": 7.4, "2021-08-09": 7.1, "2022-02-14": 6.9, "2022-08-15": 7.0, "2023-02-13": 7.2,
           "2023-08-14": 7.5, "2023-11-20": 7.8, "2024-05-13": 7.3, "2024-11-18": 7.4, "2025-05-12": 7.6,
           "2025-11-17": 7.9, "2026-05-11": 8.1, "2026-11-23": 8.6}
    bp = {"2021-02-08": (134, 78), "2021-08-09": (128, 76), "2022-02-14": (138, 80), "2022-08-15": (131, 74),
          "2023-01-17": (140, 82), "2023-02-13": (136, 78), "2023-08-14": (129, 75), "2023-11-20": (133, 79),
          "2024-05-13": (127, 74), "2024-11-18": (135, 80), "2025-05-12": (132, 77), "2025-11-17": (141, 83),
          "2026-05-11": (137, 81), "2026-11-23": (148, 86)}
    years = {y: i for i, y in enumerate(range(2021, 2027))}

    def vit(day):
        y = int(day[:4]) + (int(day[5:7]) - 1) / 12
        w = weight0 - 0.45 * (y - 2021) + p.rng.gauss(0, 0.6)
        return {"bp": bp[day], "hr": int(round(p.rng.gauss(d["hr"], 4))), "weight": round(w, 1), "height": height}

    def labs(day, panels, **over):
        base["a1c_now"] = a1c.get(day)
        base["creat_now"] = d["creat"] * (1 + 0.025 * years[int(day[:4])])
        out = {}
        for panel in panels:
            fixed = {**over.get(panel, {})}
            if panel == "a1c":
                fixed.setdefault("a1c", a1c[day])
            out[panel] = p.panel_values(panel, base, day, **fixed)
        return out

    chronic = ("t2dm", "htn", "chol")
    p.visit("2021-02-08", "09:00", "Annual diabetes and blood pressure check", problems=chronic, vitals=vit("2021-02-08"),
            height=True, labs=labs("2021-02-08", ["a1c", "cmp", "lipid", "cbc", "uacr", "ua"], uacr={"uacr": 64}),
            discussed=["Your A1c is 7.4%. Your goal is below 7.5%.",
                       "Your kidney test shows a little protein in the urine. Losartan helps protect your kidneys."],
            next_steps=["Come back in 6 months for a diabetes check.", "Yearly eye exam: please schedule it."])
    p.visit("2021-08-09", "09:30", "Diabetes follow-up", problems=("t2dm", "htn"), vitals=vit("2021-08-09"),
            labs=labs("2021-08-09", ["a1c"]),
            discussed=["Walking 20 minutes most days is helping: keep it up."],
            next_steps=["Diabetes check in 6 months."])
    p.visit("2022-02-14", "08:45", "Annual diabetes and blood pressure check", problems=chronic + ("knee-oa",),
            vitals=vit("2022-02-14"), height=True,
            labs=labs("2022-02-14", ["a1c", "bmp", "lipid", "uacr"], uacr={"uacr": 58}),
            discussed=["Your A1c is 6.9%, the best in years.", "Knee pain: acetaminophen as needed and the "
                       "exercise sheet from physical therapy."],
            next_steps=["Shingles vaccine, second dose, in 2 to 6 months."])
    p.visit("2022-08-15", "10:00", "Diabetes follow-up", problems=("t2dm", "htn"), vitals=vit("2022-08-15"),
            labs=labs("2022-08-15", ["a1c"]), next_steps=["Diabetes check in 6 months."])
    p.visit("2023-01-17", "14:20", "Cough and chest congestion for 5 days", diagnoses=("bronchitis",),
            vitals=vit("2023-01-17"), kind="Office visit, acute",
            discussed=["Your lungs sound clear of pneumonia. This is most likely a viral chest infection "
                       "(acute bronchitis).", "Antibiotics do not help viral bronchitis."],
            next_steps=["Rest, fluids, honey for the cough.",
                        "Call us if you have a fever over 101 F, shortness of breath, or the cough lasts "
                        "more than 3 weeks."])
    p.visit("2023-02-13", "09:00", "Annual diabetes and blood pressure check", problems=chronic,
            vitals=vit("2023-02-13"), height=True,
            labs=labs("2023-02-13", ["a1c", "cmp", "lipid", "cbc", "uacr"], uacr={"uacr": 71}),
            discussed=["The bronchitis has cleared."], next_steps=["Diabetes check in 6 months."])
    p.visit("2023-08-14", "09:15", "Diabetes follow-up", problems=("t2dm", "htn"), vitals=vit("2023-08-14"),
            labs=labs("2023-08-14", ["a1c", "bmp"]),
            discussed=["Your A1c went up to 7.5%. We will check again in 3 months."],
            next_steps=["Diabetes check in 3 months."])
    p.visit("2023-11-20", "09:00", "Diabetes follow-up", problems=("t2dm",), vitals=vit("2023-11-20"),
            labs=labs("2023-11-20", ["a1c"]),
            discussed=["Your A1c is 7.8%, above your goal."],
            changes=["Metformin increased from 500 mg to 1000 mg twice a day. Use up your 500 mg tablets "
                     "by taking 2 at a time."],
            next_steps=["Diabetes check in 6 months."])
    p.visit("2024-05-13", "08:30", "Annual diabetes and blood pressure check", problems=chronic,
            vitals=vit("2024-05-13"), height=True,
            labs=labs("2024-05-13", ["a1c", "bmp", "lipid", "uacr"], uacr={"uacr": 66},
                      lipid={"chol": 188, "hdl": 47, "trig": 164, "ldl": 108, "status": "corrected",
                             "corrected_days": 2,
                             "corrected": {"ldl": "Corrected result on 15 May 2024: LDL was first reported as "
                                                  "181 mg/dL because of a calculation error. The correct value "
                                                  "is 108 mg/dL."},
                             "conclusion": "Corrected report: LDL cholesterol recalculated (was 181 mg/dL, now "
                                           "108 mg/dL). Other results unchanged."}),
            next_steps=["Diabetes check in 6 months."])
    p.visit("2024-11-18", "09:45", "Diabetes follow-up", problems=("t2dm", "htn"), vitals=vit("2024-11-18"),
            labs=labs("2024-11-18", ["a1c", "bmp"]), next_steps=["Annual check in 6 months."])
    p.visit("2025-05-12", "08:30", "Annual diabetes and blood pressure check", problems=chronic,
            vitals=vit("2025-05-12"), height=True,
            labs=labs("2025-05-12", ["a1c", "cmp", "lipid", "cbc", "uacr", "ua"], uacr={"uacr": 74},
                      cmp={"k": 6.4, "issued_after": 150,
                           "notes": {"k": "Critical value called to Dr. Morgan Lee at 11:40 and read back. "
                                          "Specimen moderately hemolyzed, which can raise potassium falsely."},
                           "conclusion": "Critical potassium (6.4 mmol/L) on a hemolyzed specimen: likely "
                                         "falsely high. Repeat potassium recommended."}),
            next_steps=["Repeat potassium blood test in 2 days (lab only, no appointment needed)."])
    base["creat_now"] = d["creat"] * 1.1
    repeat = p.panel_values("k", base, "2025-05-14", k=4.6,
                            conclusion="Repeat potassium normal: the earlier value was from a hemolyzed specimen.")
    p.lab("2025-05-14", at("2025-05-14", "08:05"), "k", {**repeat, "tag": "k-repeat", "issued_after": 120}, None)
    p.visit("2025-11-17", "09:15", "Diabetes follow-up", problems=("t2dm", "htn"), vitals=vit("2025-11-17"),
            labs=labs("2025-11-17", ["a1c", "bmp"]),
            discussed=["Your A1c is 7.9%. Blood pressure is a little high today: please check it at home "
                       "and bring your readings next time."],
            next_steps=["Annual check in 6 months."])
    p.visit("2026-05-11", "08:30", "Annual diabetes and blood pressure check", problems=chronic + ("knee-oa",),
            vitals=vit("2026-05-11"), height=True,
            labs=labs("2026-05-11", ["a1c", "cmp", "lipid", "cbc", "uacr"], uacr={"uacr": 82}),
            discussed=["Your A1c is 8.1%. We talked about adding a second diabetes medicine if it stays "
                       "above 8%."],
            next_steps=["Diabetes check in 6 months."])
    p.visit("2026-11-23", "09:00", "Diabetes and blood pressure follow-up", problems=("t2dm", "htn"),
            vitals=vit("2026-11-23"),
            labs=labs("2026-11-23", ["a1c", "bmp", "cbc"],
                      a1c={"notes": {"a1c": "Higher than in May (8.1%). Dr. Lee started empagliflozin on "
                                            "23 November 2026."}},
                      cbc={"status": "preliminary",
                           "conclusion": "Preliminary: automated count reported; peripheral smear review "
                                         "pending."}),
            discussed=["Your A1c is 8.6%, above your goal. We are adding a second diabetes medicine.",
                       "Your blood pressure is high today (148/86). Please check it at home twice a week."],
            changes=["Started: empagliflozin 10 mg tablet, 1 tablet every morning. Drink plenty of water."],
            next_steps=["Diabetes check in 3 months.", "Send us your home blood pressure readings in 2 weeks."])

    p.pdf_document("labs", "2026-05-11", "16:30", DOC_LAB, "Laboratory report", "Laboratory Report - Annual Panel", [
        "## Ordered by: Dr. Morgan Lee, Family Medicine",
        "Collected: 11 May 2026 09:05    Reported: 11 May 2026 14:05",
        "Performed by: Riverside Community Clinic Laboratory",
        "",
        "## Hemoglobin A1c                      8.1 %          (4.0 - 5.6)   HIGH",
        "## Comprehensive metabolic panel, lipid panel, CBC, urine albumin/creatinine:",
        "   see the individual results in My Medical Record for values and ranges.",
        "",
        "Interpreted by: Dr. Priya Shah, MD, Clinical Pathology",
        "This printable report is a copy of results already in your record.",
    ], DR_SHAH)
    p.pdf_document("xray", "2026-10-14", "15:10", DOC_IMAGING, "Chest X-ray report", "Chest X-ray, 2 views", [
        "## Ordered by: Dr. Morgan Lee    Reason: cough for 3 weeks, former smoker",
        "Exam: XR chest, PA and lateral (2 views)",
        "",
        "## Findings",
        "  Lungs are clear. No consolidation, effusion or pneumothorax.",
        "  Heart size is normal. Mild degenerative changes of the thoracic spine.",
        "",
        "## Impression",
        "  No acute cardiopulmonary abnormality.",
        "",
        "Read by: Dr. Samuel Okoye, MD, Radiology (Riverside Imaging)",
    ], {"display": "Dr. Samuel Okoye, MD (Riverside Imaging)"})
    return p


# ================================================================================================
# Robert Smith (MRN100002): hypertension found in 2020 and treated to goal; a cough on lisinopril
# ================================================================================================
def robert() -> Record:
    p = Record("robert", "MRN100002", "Robert", "Smith", "1961-07-30", "M", "robert-2026", "48 Oak Avenue",
               "robert.smith@example.org", "555-0122")
    d = carebundle_draw("hypertension", 1, "M", (59, 60), dt.date(2020, 11, 23))
    course = visits_of(profile="hypertension", seed=14, sex="M", age_years=59.3, visits=3, interval_days=90,
                       reference_date=dt.date(2021, 5, 24))
    base = dict(d)
    base["creat_now"] = d["creat"]
    weight0, height = d["weight"], d["height"]

    p.condition("htn", C.ESSENTIAL_HYPERTENSION, "High blood pressure (hypertension)", "2020-11-23")
    p.condition("lipids", C.HYPERLIPIDEMIA, "High cholesterol", "2021-11-15")
    p.condition("prediabetes", PREDIABETES, "Prediabetes", "2021-11-15")
    p.condition("obesity", C.OBESITY, "Obesity", "2020-11-23")
    p.condition("cough", COUGH, "Dry cough (side effect of lisinopril)", "2022-01-10", abated="2022-03-28",
                category="encounter-diagnosis", encounter="2022-02-14")
    p.condition("gerd", GERD, "Acid reflux (GERD)", "2023-03-01", abated="2023-06-12")

    p.allergy("lisinopril", LISINOPRIL_INGREDIENT, "Lisinopril", "intolerance", "Dry cough", "mild", "low",
              "2022-01", "2022-02-14", note="ACE inhibitor cough. Tolerates losartan.")

    p.medication("lisinopril", C.LISINOPRIL_10, "Lisinopril 10 mg tablet", "Take 1 tablet by mouth once a day.",
                 "2020-11-23", status="stopped", ended="2022-02-14", reason="Dry cough", why="htn")
    p.medication("amlodipine", C.AMLODIPINE_5, "Amlodipine 5 mg tablet", "Take 1 tablet by mouth once a day.",
                 "2021-02-22", why="htn")
    p.medication("losartan", C.LOSARTAN_50, "Losartan 50 mg tablet", "Take 1 tablet by mouth once a day.",
                 "2022-02-14", why="htn")
    p.medication("atorvastatin", C.ATORVASTATIN_20, "Atorvastatin 20 mg tablet",
                 "Take 1 tablet by mouth at bedtime.", "2021-11-15", why="lipids")
    p.medication("omeprazole", C.OMEPRAZOLE_20, "Omeprazole 20 mg capsule",
                 "Take 1 capsule by mouth 30 minutes before breakfast for 8 weeks.", "2023-03-13",
                 status="completed", ended="2023-05-08", why="gerd", refills=0, days=56)

    for day, vaccine, lot in [("2021-03-08", "covid-pfizer", "EN6198"), ("2021-03-29", "covid-pfizer", "ER8729"),
                              ("2021-10-18", "flu4", "FL4120AA"), ("2022-08-15", "tdap", "TD3U72B"),
                              ("2022-10-17", "flu4", "FL4533BA"), ("2023-08-14", "shingrix", "SG2M61"),
                              ("2023-10-16", "flu4", "FL5017CA"), ("2023-10-16", "covid", "HJ2044"),
                              ("2023-11-13", "shingrix", "SG2N08"), ("2024-10-21", "flu", "FL5520DA"),
                              ("2025-10-20", "flu", "FL6093EA"), ("2026-10-19", "flu", "FL6611FA")]:
        p.immunization(day, vaccine, lot, site="Left arm" if vaccine.startswith("flu") else "Right arm")

    bp = {"2020-11-23": (round(course[0].systolic), round(course[0].diastolic)),
          "2021-02-22": (round(course[1].systolic), round(course[1].diastolic)),
          "2021-05-24": (round(course[2].systolic), round(course[2].diastolic))}
    held = (course[2].systolic, course[2].diastolic)

    def vit(day):
        if day not in bp:
            drop = 5 if day >= "2022-02-14" else 0  # losartan a little stronger than lisinopril for him
            bp[day] = (round(held[0] - drop + p.rng.gauss(0, 4)), round(held[1] - drop / 2 + p.rng.gauss(0, 3)))
        y = int(day[:4]) + (int(day[5:7]) - 1) / 12
        w = weight0 - (2.5 if y > 2021.9 else 0) - 0.2 * (y - 2021) + p.rng.gauss(0, 0.7)
        return {"bp": bp[day], "hr": int(round(p.rng.gauss(d["hr"], 4))), "weight": round(w, 1), "height": height}

    def labs(day, panels, statin=False, **over):
        base["chol_now"] = d["chol"] * (0.74 if statin else 1.0)
        base["creat_now"] = d["creat"] * (1 + 0.012 * (int(day[:4]) - 2020))
        base["a1c_now"] = None
        out = {}
        for panel in panels:
            out[panel] = p.panel_values(panel, base, day, **over.get(panel, {}))
        return out

    p.visit("2020-11-23", "10:30", "New patient visit", problems=("htn", "obesity"), vitals=vit("2020-11-23"),
            height=True, labs=labs("2020-11-23", ["cmp", "cbc", "lipid", "a1c"], a1c={"a1c": 5.8}),
            kind="Office visit, new patient",
            discussed=["Your blood pressure is high today and was high at the pharmacy twice.",
                       "Less salt, more walking, and a blood pressure medicine will help."],
            changes=["Started: lisinopril 10 mg tablet, 1 tablet once a day."],
            next_steps=["Blood pressure check in 3 months.", "Check your blood pressure at home."])
    p.visit("2021-02-22", "10:00", "Blood pressure follow-up", problems=("htn",), vitals=vit("2021-02-22"),
            labs=labs("2021-02-22", ["bmp"]),
            discussed=["Better, but not yet at goal (below 130/80)."],
            changes=["Started: amlodipine 5 mg tablet, 1 tablet once a day."],
            next_steps=["Blood pressure check in 3 months."])
    p.visit("2021-05-24", "10:15", "Blood pressure follow-up", problems=("htn",), vitals=vit("2021-05-24"),
            discussed=["Blood pressure much improved on two medicines."],
            next_steps=["Annual physical in November."])
    p.visit("2021-11-15", "08:30", "Annual physical", problems=("htn", "lipids", "prediabetes"),
            vitals=vit("2021-11-15"), height=True,
            labs=labs("2021-11-15", ["cmp", "lipid", "a1c", "cbc"], a1c={"a1c": 6.1}),
            discussed=["Your LDL cholesterol is high. With your blood pressure, a statin lowers your risk of "
                       "heart attack and stroke.",
                       "Your A1c of 6.1% means prediabetes. Weight loss of 5 to 7% lowers the chance of "
                       "diabetes."],
            changes=["Started: atorvastatin 20 mg tablet, 1 tablet at bedtime."],
            next_steps=["Blood pressure check in 3 months."])
    p.visit("2022-02-14", "10:00", "Dry cough for a month", problems=("htn",), diagnoses=("cough",),
            vitals=vit("2022-02-14"), labs=labs("2022-02-14", ["bmp"], statin=True),
            kind="Office visit, acute",
            discussed=["Your cough is most likely a side effect of lisinopril. It should fade within a few "
                       "weeks after stopping it."],
            changes=["Stopped: lisinopril.", "Started: losartan 50 mg tablet, 1 tablet once a day."],
            next_steps=["Call us if the cough is not better in 6 weeks."])
    p.visit("2022-08-15", "08:30", "Annual physical", problems=("htn", "lipids", "prediabetes"),
            vitals=vit("2022-08-15"), height=True,
            labs=labs("2022-08-15", ["cmp", "lipid", "a1c"], statin=True, a1c={"a1c": 6.0}),
            discussed=["The cough is gone. LDL cholesterol is down on atorvastatin."],
            next_steps=["Tetanus booster (Tdap) given today."])
    p.visit("2023-03-13", "11:00", "Heartburn after meals", diagnoses=("gerd",), vitals=vit("2023-03-13"),
            kind="Office visit, acute",
            discussed=["Heartburn without warning signs: an 8-week course of omeprazole.",
                       "Avoid late meals, and raise the head of the bed."],
            changes=["Started: omeprazole 20 mg capsule before breakfast for 8 weeks."],
            next_steps=["Tell us if you have trouble swallowing, weight loss or black stools."])
    for day, a1c in [("2023-08-14", 6.2), ("2024-08-12", 6.0), ("2025-08-11", 5.9), ("2026-08-10", 6.1)]:
        p.visit(day, "08:30", "Annual physical", problems=("htn", "lipids", "prediabetes"), vitals=vit(day),
                height=day == "2025-08-11",
                labs=labs(day, ["cmp" if day[3] in "35" else "bmp", "lipid", "a1c"] + (["cbc"] if day[3] == "5" else []),
                          statin=True, a1c={"a1c": a1c}),
                discussed=[f"Your A1c is {a1c}%: still prediabetes, not diabetes."],
                next_steps=["Annual physical next year."])

    p.pdf_document("cardiology", "2021-06-21", "16:00", DOC_CONSULT, "Cardiology consult note",
                   "Cardiology Consultation", [
                       "## Referred by: Dr. Morgan Lee, Family Medicine",
                       "## Reason: newly diagnosed hypertension, exertional shortness of breath",
                       "",
                       "## Assessment",
                       "  Echocardiogram: normal left ventricular size and function,",
                       "  ejection fraction 60%. Mild left ventricular hypertrophy.",
                       "  Exercise stress test: no ischemia at 10 METs.",
                       "",
                       "## Recommendations",
                       "  Continue lisinopril and amlodipine; target below 130/80.",
                       "  Start a statin if LDL cholesterol stays high.",
                       "  No cardiology follow-up needed unless symptoms return.",
                       "",
                       "Dr. Elena Park, MD, Cardiology (Riverside Heart Center)",
                   ], {"display": "Dr. Elena Park, MD (Riverside Heart Center)"})
    return p


# ================================================================================================
# Carol Nguyen (MRN100003): healthy; iron deficiency anemia in 2022, treated; a sprained ankle
# ================================================================================================
def carol() -> Record:
    p = Record("carol", "MRN100003", "Carol", "Nguyen", "1985-11-02", "F", "carol-2026", "7 Birch Lane",
               "carol.nguyen@example.org", "555-0133")
    d = carebundle_draw("anaemia", 5, "F", (36, 37), dt.date(2022, 4, 11))
    base = dict(d)
    base["creat_now"] = d["creat"]
    base["chol_now"] = d["chol"]
    base["a1c_now"] = None
    healthy = {"hgb": 13.3, "hct": 40.0, "rbc": 4.45}
    height, weight0 = d["height"], d["weight"]

    p.condition("rhinitis", RHINITIS, "Seasonal allergies (hay fever)", "2019-04-15")
    p.condition("anemia", C.IRON_DEFICIENCY_ANEMIA, "Iron deficiency anemia", "2022-04-11", abated="2022-10-17",
                note="Heavy periods. Improved with iron tablets.")
    p.condition("ankle", ANKLE_SPRAIN, "Sprained right ankle", "2024-06-22", abated="2024-08-05",
                category="encounter-diagnosis", encounter="2024-06-24")

    p.medication("iron", C.FERROUS_SULFATE_325, "Ferrous sulfate 325 mg tablet",
                 "Take 1 tablet by mouth once a day with orange juice, for 6 months.", "2022-04-11",
                 status="completed", ended="2022-10-17", why="anemia", refills=1, days=90)

    for day, vaccine, lot in [("2021-04-26", "covid-pfizer", "EW0171"), ("2021-05-17", "covid-pfizer", "EW0182"),
                              ("2021-10-11", "flu4", "FL4118AA"), ("2022-10-10", "flu4", "FL4527BA"),
                              ("2023-04-10", "tdap", "TD4V19C"), ("2023-10-09", "flu4", "FL5011CA"),
                              ("2024-10-14", "flu", "FL5514DA"), ("2025-10-13", "flu", "FL6088EA"),
                              ("2026-10-12", "flu", "FL6605FA")]:
        p.immunization(day, vaccine, lot, site="Left arm")

    def vit(day, bp):
        return {"bp": bp, "hr": int(round(p.rng.gauss(d["hr"], 4))),
                "weight": round(weight0 + p.rng.gauss(0, 0.8), 1), "height": height}

    def labs(day, panels, blood=None, **over):
        for k, v in (blood or healthy).items():
            base[k] = v
        out = {}
        for panel in panels:
            out[panel] = p.panel_values(panel, base, day, **over.get(panel, {}))
        return out

    low = {"hgb": d["hgb"], "hct": d["hct"], "rbc": d["rbc"]}
    p.visit("2021-04-12", "15:00", "Annual physical", problems=("rhinitis",), vitals=vit("2021-04-12", (110, 70)),
            height=True, labs=labs("2021-04-12", ["cbc", "lipid"], blood={"hgb": 12.6, "hct": 37.8, "rbc": 4.2}),
            discussed=["All your results are in the normal range."], next_steps=["Annual physical next year."])
    p.visit("2022-04-11", "15:30", "Annual physical; tired for 2 months", problems=("anemia",),
            vitals=vit("2022-04-11", (106, 66)),
            labs=labs("2022-04-11", ["cbc", "ferritin"], blood=low,
                      ferritin={"ferritin": 8, "notes": {"ferritin": "Low iron stores."}},
                      cbc={**low, "conclusion": "Microcytic anemia, consistent with iron deficiency."}),
            discussed=["Your tiredness is from low iron (iron deficiency anemia), most likely from heavy "
                       "periods."],
            changes=["Started: ferrous sulfate 325 mg tablet, 1 a day with orange juice."],
            next_steps=["Blood count and iron level again in 3 months.",
                        "Gynecology appointment about heavy periods."])
    p.visit("2022-07-11", "16:00", "Anemia follow-up", problems=("anemia",), vitals=vit("2022-07-11", (108, 68)),
            labs=labs("2022-07-11", ["cbc", "ferritin"], blood={"hgb": 12.3, "hct": 37.2, "rbc": 4.15},
                      ferritin={"ferritin": 21}),
            discussed=["Your hemoglobin is back in the normal range. Keep taking iron until October."],
            next_steps=["Blood count and iron level in 3 months."])
    p.visit("2022-10-17", "15:45", "Anemia follow-up", problems=("anemia",), vitals=vit("2022-10-17", (110, 68)),
            labs=labs("2022-10-17", ["cbc", "ferritin"], blood={"hgb": 13.1, "hct": 39.4, "rbc": 4.38},
                      ferritin={"ferritin": 38}),
            discussed=["Anemia resolved and iron stores refilled: you can stop the iron tablets."],
            changes=["Stopped: ferrous sulfate (course completed)."], next_steps=["Annual physical in April."])
    p.visit("2023-04-10", "15:00", "Annual physical", problems=("rhinitis",), vitals=vit("2023-04-10", (108, 68)),
            height=True, labs=labs("2023-04-10", ["cbc"]),
            discussed=["Blood count normal."], next_steps=["Tdap booster given today."])
    p.visit("2024-04-15", "15:30", "Annual physical", vitals=vit("2024-04-15", (112, 70)),
            labs=labs("2024-04-15", ["cbc", "lipid", "ua"]),
            discussed=["All results normal."], next_steps=["Annual physical next year."])
    p.visit("2024-06-24", "11:30", "Right ankle injury playing soccer", diagnoses=("ankle",),
            vitals=vit("2024-06-24", (118, 74)), kind="Office visit, acute",
            discussed=["Sprained ankle; no sign of a broken bone (you can walk on it and the bones are not "
                       "tender)."],
            next_steps=["Rest, ice, compression and elevation for 3 days. Ibuprofen as needed.",
                        "Ankle exercises once the swelling goes down. Call us if not better in 2 weeks."])
    p.visit("2025-04-14", "15:00", "Annual physical", problems=("rhinitis",), vitals=vit("2025-04-14", (109, 69)),
            height=True, labs=labs("2025-04-14", ["cbc"]),
            discussed=["Blood count normal."], next_steps=["Annual physical next year."])
    p.visit("2026-04-13", "15:15", "Annual physical", vitals=vit("2026-04-13", (111, 71)),
            labs=labs("2026-04-13", ["cbc", "cmp", "lipid"]),
            discussed=["All results normal."], next_steps=["Annual physical next year."])

    p.pdf_document("iron-studies", "2022-04-12", "09:30", DOC_LAB, "Laboratory report", "Laboratory Report - "
                   "Anemia Work-up", [
                       "## Ordered by: Dr. Morgan Lee, Family Medicine",
                       "Collected: 11 April 2022 16:05    Reported: 12 April 2022 08:45",
                       "",
                       f"## Hemoglobin                  {d['hgb']} g/dL        (12.0 - 15.5)   LOW",
                       "## Ferritin                    8 ng/mL          (15 - 150)      LOW",
                       "",
                       "Comment: microcytic anemia with low ferritin, consistent with iron deficiency.",
                       "",
                       "Interpreted by: Dr. Priya Shah, MD, Clinical Pathology",
                   ], DR_SHAH)
    return p


def write(bundle: dict, path: Path) -> None:
    """One entry a line: small, valid JSON that diffs well."""
    head = {k: v for k, v in bundle.items() if k != "entry"}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + ',"entry":[\n'
    text += ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in bundle["entry"])
    text += "\n]}\n"
    assert json.loads(text) == bundle
    path.write_text(text)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    failed = False
    for make in (alice, robert, carol):
        record = make()
        bundle = record.bundle()
        problems = check(bundle)
        path = OUT / f"{record.key}.json"
        write(bundle, path)
        counts: dict[str, int] = {}
        for e in bundle["entry"]:
            counts[e["resource"]["resourceType"]] = counts.get(e["resource"]["resourceType"], 0) + 1
        print(f"{path.name}: {path.stat().st_size // 1024} KB, {len(bundle['entry'])} resources: "
              + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())))
        print(f"  {check_r4_models(bundle)}")
        for pr in problems:
            print("  PROBLEM", pr)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
