//! The laboratory's tests and panels: LOINC codes, units, reference ranges.

/// A lab test: its LOINC code and names, its UCUM unit, its reference range (either end may be
/// open; a woman's lower limit where it differs), and the decimals it is reported with.
pub(super) struct Test {
    pub(super) loinc: &'static str,
    pub(super) display: &'static str,
    pub(super) text: &'static str,
    pub(super) unit: &'static str,
    pub(super) ucum: &'static str,
    pub(super) low: Option<f64>,
    pub(super) high: Option<f64>,
    pub(super) low_female: Option<f64>,
    pub(super) decimals: i32,
}

const fn test(loinc: &'static str, display: &'static str, text: &'static str, unit: &'static str, low: Option<f64>, high: Option<f64>, decimals: i32) -> Test {
    Test { loinc, display, text, unit, ucum: unit, low, high, low_female: None, decimals }
}

/// A panel as the laboratory reports it (a DiagnosticReport), and how often it is ordered.
pub(super) struct Panel {
    pub(super) loinc: &'static str,
    pub(super) display: &'static str,
    pub(super) text: &'static str,
    pub(super) tests: &'static [Test],
    pub(super) weight: u32,
}

const SODIUM: Test = test("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Sodium", "mmol/L", Some(136.0), Some(145.0), 0);
const POTASSIUM: Test = test("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "Potassium", "mmol/L", Some(3.5), Some(5.1), 1);
const CHLORIDE: Test = test("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "Chloride", "mmol/L", Some(98.0), Some(107.0), 0);
const CO2: Test =
    test("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "Carbon dioxide (bicarbonate)", "mmol/L", Some(22.0), Some(29.0), 0);
const BUN: Test = test("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "Urea nitrogen (BUN)", "mg/dL", Some(7.0), Some(25.0), 0);
const CREATININE: Test = test("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinine", "mg/dL", Some(0.5), Some(1.05), 2);
const EGFR: Test = Test {
    loinc: "98979-8",
    display: "Glomerular filtration rate [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)/1.73 sq M",
    text: "eGFR (CKD-EPI 2021)",
    unit: "mL/min/{1.73_m2}",
    ucum: "mL/min/{1.73_m2}",
    low: Some(60.0),
    high: None,
    low_female: None,
    decimals: 0,
};
const GLUCOSE: Test = test("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "Glucose", "mg/dL", Some(70.0), Some(99.0), 0);
const CALCIUM: Test = test("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "Calcium", "mg/dL", Some(8.6), Some(10.3), 1);
const A1C: Test = test("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "Hemoglobin A1c", "%", Some(4.0), Some(5.6), 1);
const TSH: Test = Test {
    loinc: "3016-3",
    display: "Thyrotropin [Units/volume] in Serum or Plasma",
    text: "TSH",
    unit: "mIU/L",
    ucum: "m[IU]/L",
    low: Some(0.45),
    high: Some(4.5),
    low_female: None,
    decimals: 2,
};
const ACR: Test = test("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "Albumin/creatinine ratio, urine", "mg/g", None, Some(30.0), 0);

pub(super) const PANELS: &[Panel] = &[
    Panel {
        loinc: "24321-2",
        display: "Basic metabolic 2000 panel - Serum or Plasma",
        text: "Basic metabolic panel",
        tests: &[SODIUM, POTASSIUM, CHLORIDE, CO2, BUN, CREATININE, EGFR, GLUCOSE, CALCIUM],
        weight: 3,
    },
    Panel {
        loinc: "58410-2",
        display: "CBC panel - Blood by Automated count",
        text: "Complete blood count (CBC)",
        tests: &[
            test("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "White blood cells", "10*3/uL", Some(3.8), Some(10.8), 1),
            test("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "Red blood cells", "10*6/uL", Some(3.8), Some(5.1), 2),
            test("718-7", "Hemoglobin [Mass/volume] in Blood", "Hemoglobin", "g/dL", Some(12.0), Some(15.5), 1),
            test("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "Hematocrit", "%", Some(35.0), Some(45.0), 1),
            test("777-3", "Platelets [#/volume] in Blood by Automated count", "Platelets", "10*3/uL", Some(140.0), Some(400.0), 0),
        ],
        weight: 3,
    },
    Panel {
        loinc: "24331-1",
        display: "Lipid 1996 panel - Serum or Plasma",
        text: "Lipid panel",
        tests: &[
            test("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "Total cholesterol", "mg/dL", None, Some(200.0), 0),
            Test {
                loinc: "2085-9",
                display: "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                text: "HDL cholesterol",
                unit: "mg/dL",
                ucum: "mg/dL",
                low: Some(40.0),
                high: None,
                low_female: Some(50.0),
                decimals: 0,
            },
            test(
                "13457-7",
                "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
                "LDL cholesterol (calculated)",
                "mg/dL",
                None,
                Some(100.0),
                0,
            ),
            test("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "Triglycerides", "mg/dL", None, Some(150.0), 0),
        ],
        weight: 3,
    },
    Panel { loinc: "4548-4", display: A1C.display, text: A1C.text, tests: &[A1C], weight: 3 },
    Panel { loinc: "3016-3", display: TSH.display, text: TSH.text, tests: &[TSH], weight: 1 },
    Panel { loinc: "9318-7", display: ACR.display, text: ACR.text, tests: &[ACR], weight: 1 },
];
