#!/usr/bin/env python3
"""Writes listings.json (120 store listings) and queries.json (36 queries with their relevant
listings) for the store search evaluation (tests/unit/test_market_store_search.c). The listings
are combinations of clinical topics, populations and settings written the way authors describe
pathways; a query's relevant set is every listing of its topic (and population when the query
names one). Deterministic: run it again to regenerate the same files."""
import json, hashlib

topics = [
 ("chest", "Chest pain assessment", "cardiology", "Assessment of acute chest pain with ECG and high-sensitivity troponin, risk stratification for acute coronary syndrome and same-day referral.", ["icd10|R07.4", "icd10|I20.9"]),
 ("htn", "Hypertension diagnosis and follow-up", "cardiology", "Clinic and ambulatory blood pressure readings, treatment steps and reviews until controlled.", ["icd10|I10", "snomed|38341003"]),
 ("af", "Atrial fibrillation anticoagulation", "cardiology", "Stroke risk (CHA2DS2-VASc) and bleeding risk scoring before starting a DOAC or warfarin.", ["icd10|I48"]),
 ("hf", "Heart failure diagnosis", "cardiology", "Natriuretic peptide testing, echocardiography referral and diuretic titration for suspected heart failure.", ["icd10|I50.9"]),
 ("dm", "Type 2 diabetes management", "endocrinology", "HbA1c targets, metformin first line, intensification and annual review of complications.", ["icd10|E11.9"]),
 ("foot", "Diabetic foot ulcer triage", "endocrinology", "Foot ulcer assessment for people with diabetes, infection signs and urgent multidisciplinary referral.", ["icd10|E11.5"]),
 ("sepsis", "Sepsis recognition and escalation", "emergency medicine", "Early warning score, lactate, blood cultures and antibiotics within one hour for suspected sepsis.", ["icd10|A41.9"]),
 ("breast", "Breast lump two week wait referral", "oncology", "Suspected breast cancer: who needs an urgent two-week-wait referral and who can be reassessed.", ["icd10|N63", "icd10|C50.9"]),
 ("cough", "Chronic cough investigation", "respiratory", "Persistent cough over eight weeks: chest X-ray, spirometry, reflux and asthma trials.", ["icd10|R05"]),
 ("copd", "COPD exacerbation plan", "respiratory", "Rescue pack of steroids and antibiotics, inhaler review and pulmonary rehabilitation after a flare.", ["icd10|J44.1"]),
 ("asthma", "Asthma step-up treatment", "respiratory", "Inhaled corticosteroid dosing, reliever overuse and personalised asthma action plan.", ["icd10|J45.9"]),
 ("wl", "Unexplained weight loss", "gastroenterology", "Investigation of unintentional weight loss: blood tests, imaging and cancer referral criteria.", ["icd10|R63.4"]),
 ("uti", "Urinary tract infection treatment", "urology", "Lower urinary tract infection: dipstick, nitrofurantoin or trimethoprim and when to culture.", ["icd10|N39.0"]),
 ("stroke", "Suspected stroke and TIA", "neurology", "FAST assessment, ABCD2 score and immediate referral for suspected stroke or transient ischaemic attack.", ["icd10|I64", "icd10|G45.9"]),
 ("dep", "Depression stepped care", "mental health", "PHQ-9 scoring, guided self-help, antidepressant choice and review for low mood.", ["icd10|F32.9"]),
 ("dem", "Dementia assessment", "neurology", "Memory loss and cognitive impairment screening, blood tests and memory clinic referral.", ["icd10|F03"]),
 ("osteo", "Osteoporosis fracture risk", "rheumatology", "FRAX fracture risk, bone density scan and bisphosphonate treatment after a fragility fracture.", ["icd10|M81.0"]),
 ("ckd", "Chronic kidney disease monitoring", "nephrology", "eGFR and albumin-creatinine ratio monitoring, blood pressure targets and nephrology referral.", ["icd10|N18.9"]),
 ("preg", "Hypertension in pregnancy", "obstetrics", "Blood pressure thresholds, pre-eclampsia symptoms and labetalol in pregnant women.", ["icd10|O13"]),
 ("mig", "Headache and migraine", "neurology", "Red flags for secondary headache, migraine acute treatment and prophylaxis.", ["icd10|G43.9"]),
 ("pneu", "Community-acquired pneumonia", "respiratory", "CRB-65 severity score, amoxicillin dosing and hospital admission criteria for chest infection.", ["icd10|J18.9"]),
 ("anaemia", "Iron deficiency anaemia", "haematology", "Low haemoglobin with low ferritin: oral iron, causes to exclude and gastroscopy referral.", ["icd10|D50.9"]),
 ("lipid", "Cholesterol and statin therapy", "cardiology", "QRISK3 cardiovascular risk, atorvastatin start and lipid monitoring.", ["icd10|E78.0"]),
 ("smoke", "Smoking cessation support", "public health", "Brief advice, nicotine replacement and varenicline for smokers who want to stop.", ["icd10|F17.2"]),
]
pops = [
 ("women50", "for women over 50", "Adapted for women aged 50 and over, with sex-specific risk thresholds."),
 ("elderly", "for older adults", "For elderly patients over 75 with frailty and polypharmacy checks."),
 ("child", "for children", "Paediatric version with weight-based dosing for children under 16."),
 ("adult", "in primary care", "For adults seen in general practice."),
 ("ed", "in the emergency department", "For the emergency department with rapid escalation."),
]
listings = []
for t in topics:
    for p in pops:
        if t[0] == "preg" and p[0] in ("child", "elderly"):
            continue
        ident = hashlib.blake2b(f"{t[0]}/{p[0]}".encode(), digest_size=32).hexdigest()
        listings.append({"id": ident, "key": f"{t[0]}/{p[0]}", "title": f"{t[1]} {p[1]}",
                         "specialty": t[2], "description": f"{t[3]} {p[2]}", "codes": t[4]})
listings = listings[:120]
def rel(topic, pop=None):
    return sorted(l["key"] for l in listings if l["key"].split("/")[0] == topic and (pop is None or l["key"].split("/")[1] == pop))
queries = [
 ("chest pain pathway for women over 50", rel("chest", "women50")),
 ("chest pain", rel("chest")),
 ("chset pian assessment", rel("chest")),
 ("angina work-up", rel("chest")),
 ("acute coronary syndrome troponin", rel("chest")),
 ("high blood pressure", rel("htn") + rel("preg")),
 ("hypertension follow up in elderly", rel("htn", "elderly")),
 ("hypertenssion", rel("htn") + rel("preg")),
 ("blood thinner for irregular heartbeat", rel("af")),
 ("atrial fibrilation", rel("af")),
 ("heart failure diuretics", rel("hf")),
 ("diabetes for children", rel("dm", "child") + rel("foot", "child")),
 ("diabetic foot ulcer", rel("foot")),
 ("sepsis in the emergency department", rel("sepsis", "ed")),
 ("septic patient antibiotics", rel("sepsis")),
 ("breast cancer referral", rel("breast")),
 ("persistent cough", rel("cough")),
 ("copd flare", rel("copd")),
 ("wheeze inhaler children", rel("asthma", "child")),
 ("losing weight without trying", rel("wl")),
 ("cystitis antibiotics", rel("uti")),
 ("uti", rel("uti")),
 ("stroke", rel("stroke")),
 ("tia", rel("stroke")),
 ("low mood", rel("dep")),
 ("memory loss older adults", rel("dem", "elderly")),
 ("alzheimer", rel("dem")),
 ("bone density fracture", rel("osteo")),
 ("renal function monitoring", rel("ckd")),
 ("pre-eclampsia pregnant", rel("preg")),
 ("migraine", rel("mig")),
 ("chest infection amoxicillin", rel("pneu")),
 ("anemia iron", rel("anaemia")),
 ("statin cholesterol", rel("lipid")),
 ("stop smoking", rel("smoke")),
 ("I48", rel("af")),
 ("diseases of the circulatory system", sorted(rel("chest") + rel("htn") + rel("af") + rel("hf") + rel("stroke"))),
 ("respiratory system disease", sorted(rel("cough") + rel("copd") + rel("asthma") + rel("pneu"))),
]
json.dump(listings, open("listings.json", "w"), indent=1)
json.dump([{"query": q, "relevant": r} for q, r in queries], open("queries.json", "w"), indent=1)
print(len(listings), "listings,", len(queries), "queries")
