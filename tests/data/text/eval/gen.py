#!/usr/bin/env python3
"""Generates the labelled near-duplicate evaluation set for clinical notes (synthetic: every
name, number and finding is made up; no real patient data).

Each base note gets six variants that are near copies (same group):
  reorder   sentences shuffled inside each paragraph, paragraphs shuffled
  format    a "Note:" header and a signature line added
  hyphen    "67 year old" <-> "67-year-old", "3 day" <-> "3-day"
  units     "300 mg" <-> "300mg"
  words     small whole numbers spelled out <-> digits
  all       every edit above at once, lines re-wrapped
  edit      small wording edits: two words dropped, a word doubled, one sentence without a
            number added (the kind of change no canonical form undoes); no number and no
            negation or side is touched
and four hard negatives (each its own group, except value + valuefmt):
  value     one clinical value changed (potassium 3.1 -> 6.8, a dose, a count)
  valuefmt  the same value change inside the "format" edit (a near copy of "value")
  patient   same template and findings, another patient (name, age, record number, date)
  flip      a finding turned around (left <-> right, denies <-> reports), no number changed
Usage: gen.py OUTDIR  (writes OUTDIR/*.txt and OUTDIR/labels.tsv: file, group, kind)."""
import random, re, sys, os, textwrap

R = random.Random(20261206)
FIRST = ["Anna", "Jonas", "Maria", "Lukas", "Sofia", "David", "Elena", "Tomas", "Ines", "Karl",
         "Lea", "Omar", "Nadia", "Peter", "Rosa", "Samir", "Julia", "Hugo", "Clara", "Marek"]
LAST = ["Meyer", "Novak", "Rossi", "Keller", "Dubois", "Jansen", "Silva", "Horvat", "Berg",
        "Costa", "Lindqvist", "Moreau", "Fischer", "Kowalski", "Brandt", "Ortega"]
DOCS = ["Dr. Helena Vogt, MD", "Dr. Paul Andersen, MD", "Mira Solberg, RN", "Dr. Ravi Menon, MD",
        "Dr. Greta Lund, MD", "Tomasz Wrona, NP"]
SEX = ["man", "woman"]

def date(r):
    return "2024-%02d-%02d" % (r.randint(1, 12), r.randint(1, 28))

def mrn(r):
    return "%07d" % r.randint(1000000, 9999999)

def dec(r, lo, hi, nd=1):
    return ("%%.%df" % nd) % r.uniform(lo, hi)

# A template: function(r, patient) -> (paragraphs, value_changes, flip)
#   paragraphs: list of lists of sentences (strings)
#   value_changes: list of (old, new) substrings; one is applied for the "value" negatives
#   flip: (old, new) substring swap for the "flip" negative
def t_bmp(r, p):
    k = dec(r, 3.0, 5.5); na = r.randint(128, 148); cr = r.randint(55, 180)
    glu = dec(r, 4.0, 14.0); urea = dec(r, 3.0, 15.0)
    return ([["Basic metabolic panel for %s, record number %s, collected on %s." % (p["name"], p["mrn"], p["date"])],
             ["Sodium %d mmol/L (reference 135 to 145)." % na,
              "Potassium %s mmol/L (reference 3.5 to 5.1)." % k,
              "Chloride %d mmol/L." % r.randint(95, 110),
              "Bicarbonate %d mmol/L." % r.randint(18, 30),
              "Urea %s mmol/L." % urea,
              "Creatinine %d umol/L." % cr,
              "Glucose %s mmol/L, fasting." % glu],
             ["Sample was not haemolysed.", "Results were phoned to the ward at %02d:%02d." % (r.randint(7, 20), r.randint(0, 59))]],
            [("Potassium %s mmol/L" % k, "Potassium %s mmol/L" % dec(r, 5.8, 7.0)),
             ("Sodium %d mmol/L" % na, "Sodium %d mmol/L" % (na - 9))],
            ("was not haemolysed", "was haemolysed"))

def t_cbc(r, p):
    hb = r.randint(85, 165); wbc = dec(r, 3.0, 18.0); plt = r.randint(90, 450)
    return ([["Full blood count for %s (%s), drawn %s." % (p["name"], p["mrn"], p["date"])],
             ["Haemoglobin %d g/L." % hb, "White cell count %s x10^9/L." % wbc,
              "Platelets %d x10^9/L." % plt, "Neutrophils %s x10^9/L." % dec(r, 1.5, 12.0),
              "Mean cell volume %d fL." % r.randint(78, 102)],
             ["No blast cells were seen on the film.", "Repeat in %d weeks if the patient remains symptomatic." % r.randint(2, 6)]],
            [("Haemoglobin %d g/L" % hb, "Haemoglobin %d g/L" % (hb - 31)),
             ("Platelets %d x10^9/L" % plt, "Platelets %d x10^9/L" % (plt // 4))],
            ("No blast cells were seen", "Blast cells were seen"))

def t_discharge(r, p):
    side = r.choice(["left", "right"]); days = r.randint(3, 9); dose = r.choice([500, 875, 1000])
    return ([["%s is a %d year old %s admitted on %s with community acquired pneumonia of the %s lower lobe." % (p["name"], p["age"], p["sex"], p["date"], side),
              "On arrival the temperature was %s C, the heart rate %d bpm and the oxygen saturation %d%% on room air." % (dec(r, 37.8, 39.9), r.randint(90, 125), r.randint(86, 94)),
              "The chest radiograph showed consolidation without pleural effusion."],
             ["The patient was treated with intravenous co-amoxiclav for %d days and switched to oral amoxicillin %d mg three times daily." % (days, dose),
              "C-reactive protein fell from %d to %d mg/L." % (r.randint(150, 320), r.randint(10, 60)),
              "Oxygen was weaned on day %d." % r.randint(2, 4)],
             ["Discharged home in a stable condition.", "Follow-up chest radiograph in %d weeks at the respiratory clinic." % r.randint(6, 8),
              "The general practitioner is asked to review renal function within %d days." % r.randint(5, 10)]],
            [("amoxicillin %d mg" % dose, "amoxicillin %d mg" % (dose * 2)),
             ("for %d days" % days, "for %d days" % (days + 5))],
            ("%s lower lobe" % side, "%s lower lobe" % ("right" if side == "left" else "left")))

def t_diabetes(r, p):
    a1c = r.randint(48, 95); met = r.choice([500, 850, 1000]); bmi = dec(r, 24, 41)
    return ([["Diabetes review for %s, %d year old %s with type 2 diabetes diagnosed %d years ago." % (p["name"], p["age"], p["sex"], r.randint(2, 20))],
             ["HbA1c today is %d mmol/mol, previously %d mmol/mol." % (a1c, a1c + r.randint(-10, 10)),
              "Blood pressure %d/%d mmHg." % (r.randint(118, 165), r.randint(70, 98)),
              "Body mass index %s kg/m2." % bmi,
              "Foot examination shows intact sensation and palpable pulses bilaterally.",
              "The patient denies hypoglycaemic episodes."],
             ["Continue metformin %d mg twice daily." % met,
              "Start empagliflozin %d mg once daily." % r.choice([10, 25]),
              "Retinal screening is due in %d months." % r.randint(3, 12),
              "Review in %d months." % r.randint(3, 6)]],
            [("HbA1c today is %d mmol/mol" % a1c, "HbA1c today is %d mmol/mol" % (a1c + 23)),
             ("metformin %d mg" % met, "metformin %d mg" % (met + 500))],
            ("The patient denies hypoglycaemic episodes", "The patient reports hypoglycaemic episodes"))

def t_cxr(r, p):
    side = r.choice(["left", "right"]); size = r.randint(6, 28)
    return ([["Chest radiograph, PA and lateral, for %s on %s." % (p["name"], p["date"]),
              "Clinical question: cough for %d weeks, weight loss of %d kg." % (r.randint(3, 10), r.randint(3, 12))],
             ["There is a %d mm nodule in the %s upper lobe." % (size, side),
              "The heart size is normal, with a cardiothoracic ratio of %s." % dec(r, 0.40, 0.49, 2),
              "There is no pleural effusion and no pneumothorax.",
              "The hila are not enlarged."],
             ["Impression: solitary pulmonary nodule of %d mm." % size,
              "CT of the chest is recommended within %d weeks." % r.randint(2, 4)]],
            [("%d mm nodule" % size, "%d mm nodule" % (size + 14)),
             ("nodule of %d mm" % size, "nodule of %d mm" % (size + 14))],
            ("%s upper lobe" % side, "%s upper lobe" % ("right" if side == "left" else "left")))

def t_ed(r, p):
    trop = r.randint(3, 80)
    return ([["%s, a %d year old %s, presented to the emergency department at %02d:%02d with central chest pain for %d hours." % (p["name"], p["age"], p["sex"], r.randint(0, 23), r.randint(0, 59), r.randint(1, 12)),
              "The pain radiates to the left arm.", "The patient denies shortness of breath."],
             ["ECG shows sinus rhythm at %d bpm with %s mm ST depression in leads V4 to V6." % (r.randint(60, 110), dec(r, 0.5, 2.0)),
              "High sensitivity troponin was %d ng/L at presentation and %d ng/L at %d hours." % (trop, trop + r.randint(0, 60), 3),
              "Blood pressure %d/%d mmHg." % (r.randint(110, 180), r.randint(60, 100))],
             ["Aspirin %d mg was given." % 300, "Referred to cardiology for assessment.",
              "Risk score %d." % r.randint(1, 7)]],
            [("troponin was %d ng/L" % trop, "troponin was %d ng/L" % (trop + 400)),
             ("Aspirin 300 mg", "Aspirin 150 mg")],
            ("The patient denies shortness of breath", "The patient reports shortness of breath"))

def t_meds(r, p):
    ator = r.choice([10, 20, 40, 80]); ram = r.choice([2.5, 5, 10])
    return ([["Medication reconciliation for %s, record number %s, on %s." % (p["name"], p["mrn"], p["date"])],
             ["Atorvastatin %d mg at night." % ator,
              "Ramipril %s mg once daily." % ("%g" % ram),
              "Bisoprolol %s mg once daily." % r.choice(["1.25", "2.5", "5"]),
              "Paracetamol %d mg up to 4 times daily when needed." % r.choice([500, 1000]),
              "Omeprazole %d mg once daily." % r.choice([20, 40])],
             ["Allergies: penicillin (rash).", "The patient takes %d tablets in the morning and %d at night." % (r.randint(2, 5), r.randint(1, 3)),
              "No over the counter medicines."]],
            [("Atorvastatin %d mg" % ator, "Atorvastatin %d mg" % (ator * 2 if ator < 80 else 10)),
             ("Ramipril %g mg" % ram, "Ramipril %g mg" % (ram * 2))],
            ("No over the counter medicines", "Over the counter medicines"))

def t_echo(r, p):
    ef = r.randint(25, 65)
    return ([["Transthoracic echocardiogram for %s, %d year old %s, performed %s." % (p["name"], p["age"], p["sex"], p["date"])],
             ["The left ventricle is mildly dilated with an ejection fraction of %d%%." % ef,
              "There is moderate mitral regurgitation.",
              "The aortic valve peak velocity is %s m/s." % dec(r, 1.2, 4.5),
              "Estimated pulmonary artery systolic pressure is %d mmHg." % r.randint(20, 60),
              "The right ventricle is normal in size and function.",
              "There is no pericardial effusion."],
             ["Conclusion: left ventricular systolic dysfunction.", "Repeat study in %d months." % r.randint(3, 12)]],
            [("ejection fraction of %d%%" % ef, "ejection fraction of %d%%" % (ef - 15 if ef > 40 else ef + 25)),
             ("is moderate mitral", "is moderate mitral")],
            ("There is no pericardial effusion", "There is a pericardial effusion"))

def t_peds(r, p):
    w = dec(r, 8, 30); t = dec(r, 37.5, 40.0)
    return ([["%s, a %d year old %s, was seen on %s with fever for %d days and a left ear ache." % (p["name"], 2 + p["age"] % 8, r.choice(["boy", "girl"]), p["date"], r.randint(1, 5)),
              "Weight %s kg." % w, "Temperature %s C." % t],
             ["The left tympanic membrane is red and bulging.", "The throat is mildly inflamed.",
              "There is no neck stiffness and no rash."],
             ["Diagnosis: acute otitis media.", "Amoxicillin %d mg three times daily for %d days." % (r.choice([125, 250, 375]), 5),
              "Return if the fever persists beyond %d hours." % 48]],
            [("Temperature %s C" % t, "Temperature %s C" % dec(r, 40.1, 41.0)),
             ("Weight %s kg" % w, "Weight %s kg" % dec(r, 31, 40))],
            ("The left tympanic membrane", "The right tympanic membrane"))

def t_postop(r, p):
    ebl = r.randint(50, 900)
    return ([["Operative note for %s, record number %s, %s." % (p["name"], p["mrn"], p["date"]),
              "Procedure: laparoscopic cholecystectomy under general anaesthesia."],
             ["Four ports were placed.", "The gallbladder was inflamed and contained multiple stones.",
              "Estimated blood loss %d mL." % ebl, "Operating time %d minutes." % r.randint(45, 140),
              "No drain was left."],
             ["Cefazolin %d g given at induction." % 2, "Discharge expected on day %d if eating and walking." % r.randint(1, 2)]],
            [("Estimated blood loss %d mL" % ebl, "Estimated blood loss %d mL" % (ebl + 1200)),
             ("Cefazolin 2 g", "Cefazolin 1 g")],
            ("No drain was left", "A drain was left"))

def t_psych(r, p):
    phq = r.randint(5, 24); ser = r.choice([50, 100])
    return ([["Mental health review for %s, %d year old %s, on %s." % (p["name"], p["age"], p["sex"], p["date"])],
             ["PHQ-9 score is %d, down from %d at the last visit." % (phq, phq + r.randint(2, 8)),
              "Sleep has improved to about %d hours a night." % r.randint(5, 8),
              "The patient denies suicidal thoughts.", "Appetite is normal."],
             ["Continue sertraline %d mg once daily." % ser, "Next review in %d weeks." % r.randint(4, 8)]],
            [("PHQ-9 score is %d" % phq, "PHQ-9 score is %d" % (phq + 9 if phq < 15 else phq - 9)),
             ("sertraline %d mg" % ser, "sertraline %d mg" % (ser + 50))],
            ("The patient denies suicidal thoughts", "The patient reports suicidal thoughts"))

TEMPLATES = [t_bmp, t_cbc, t_discharge, t_diabetes, t_cxr, t_ed, t_meds, t_echo, t_peds, t_postop, t_psych]

def patient(r):
    return {"name": "%s %s" % (r.choice(FIRST), r.choice(LAST)), "age": r.randint(19, 91),
            "sex": r.choice(SEX), "mrn": mrn(r), "date": date(r)}

def render(pars, r=None, shuffle=False):
    pars = [list(p) for p in pars]
    if shuffle:
        for p in pars:
            r.shuffle(p)
        head, rest = pars[0], pars[1:]
        r.shuffle(rest)
        pars = [head] + rest if r.random() < 0.5 else rest + [head]
    return "\n\n".join(" ".join(p) for p in pars) + "\n"

def v_format(text, r):
    sig = r.choice(["Signed: %s" % r.choice(DOCS),
                    "Electronically signed by %s on %s %02d:%02d" % (r.choice(DOCS), date(r), r.randint(7, 20), r.randint(0, 59)),
                    "-- %s" % r.choice(DOCS),
                    "Dictated by %s" % r.choice(DOCS)])
    return r.choice(["Note:\n", "Clinical note:\n", "NOTE\n"]) + text + "\n" + sig + "\n"

def v_hyphen(text):
    if re.search(r"\d+-year-old", text):
        return re.sub(r"(\d+)-(year|day|week|month)-old", r"\1 \2 old", text)
    t = re.sub(r"(\d+) year old", r"\1-year-old", text)
    return re.sub(r"(\d+) (day|week|hour)s? history", r"\1-\2 history", t)

UNITS = r"(mg|g|mL|mmol/L|mmol/mol|mmHg|kg|mm|bpm|ng/L|g/L|umol/L|mg/L|m/s|fL|%|C)"
def v_units(text):
    if re.search(r"\d(mg|mmHg)\b", text):
        return re.sub(r"(\d)" + UNITS + r"\b", r"\1 \2", text)
    return re.sub(r"(\d) " + UNITS + r"(?![\w])", r"\1\2", text)

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
def spell(n):
    if n < 20:
        return WORDS[n]
    return TENS[n // 10] + ("-" + WORDS[n % 10] if n % 10 else "")

def v_words(text):
    # whole numbers up to 99 that stand alone (not part of a date, time, decimal, ratio or id)
    return re.sub(r"(?<![\d.:/\-^])\b(\d{1,2})\b(?![\d.:/\-^]\d)", lambda m: spell(int(m.group(1))), text)

def v_all(text, pars, r):
    t = render(pars, r, True)
    t = v_words(v_units(v_hyphen(t)))
    out = []
    for para in t.strip().split("\n\n"):
        out.append("\n".join(textwrap.wrap(para, r.randint(50, 78))))
    t = "\n\n".join(out) + "\n"
    return v_format(t, r)

ADDED = ["Seen with a family member present.", "History obtained from the patient.",
         "An interpreter was present.", "Copy sent to the referring clinician.",
         "The patient agrees with the plan."]
def v_edit(text, r):
    words = text.split(" ")
    # (not the word after a number: that is its unit, part of the value)
    cand = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) > 3 and
            not (i and re.match(r"^[\d.]+$", words[i - 1])) and
            w not in ("left", "right", "denies", "reports", "without") and w not in WORDS and
            w.rstrip("y") not in [t.rstrip("y") for t in TENS if t]]
    for i in sorted(r.sample(cand, 2), reverse=True):
        del words[i]
    i = r.choice([i for i, w in enumerate(words) if w.isalpha() and w.islower() and
                  w not in ("no", "not", "left", "right", "without", "denies") and
                  w not in WORDS])
    words.insert(i, words[i])
    t = " ".join(words)
    pars = t.rstrip("\n").split("\n\n")
    k = r.randrange(len(pars))
    pars[k] = pars[k] + " " + r.choice(ADDED)
    return "\n\n".join(pars) + "\n"

def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    labels = []
    n = 0
    per = 4
    for ti, tmpl in enumerate(TEMPLATES):
        for inst in range(per):
            n += 1
            p = patient(R)
            seed = R.randint(0, 1 << 30)
            pars, changes, flip = tmpl(random.Random(seed), p)
            raw = render(pars)
            style = R.random()
            # some bases are written the other way round already
            S = (v_units if style < 0.25 else v_hyphen if style < 0.5 else (lambda t: t))
            base = S(raw)
            g = "n%02d" % n
            files = {"base": base,
                     "reorder": S(render(pars, R, True)),
                     "format": v_format(base, R),
                     "hyphen": v_hyphen(base),
                     "units": v_units(base),
                     "words": v_words(base),
                     "all": v_all(base, pars, R),
                     "edit": v_edit(base, R)}
            for kind, t in files.items():
                name = "%s_%s.txt" % (g, kind)
                labels.append((name, g, kind))
                open(os.path.join(out, name), "w").write(t)
            old, new = changes[R.randrange(len(changes))]
            if old == new or old not in raw:
                old, new = changes[0]
            assert old in raw and old != new, (g, old)
            neg = {"value": S(raw.replace(old, new, 1)),
                   "valuefmt": v_format(S(raw.replace(old, new, 1)), R)}
            q = patient(R)
            q["age"] = p["age"] + R.choice([-7, -3, 2, 5, 11])
            pars2, _, _ = tmpl(random.Random(seed), q)
            neg["patient"] = S(render(pars2))
            assert flip[0] in raw, (g, flip)
            neg["flip"] = S(raw.replace(flip[0], flip[1], 1))
            for kind, t in neg.items():
                name = "%s_neg_%s.txt" % (g, kind)
                # the value change and its reformatted copy are one other note
                grp = "%s-%s" % (g, "value" if kind == "valuefmt" else kind)
                labels.append((name, grp, "neg_" + kind))
                open(os.path.join(out, name), "w").write(t)
    with open(os.path.join(out, "labels.tsv"), "w") as f:
        f.write("# file\tgroup\tkind (files of one group are near copies of each other)\n")
        for l in labels:
            f.write("\t".join(l) + "\n")

main()
