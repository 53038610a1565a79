//! Medications, allergies, immunizations and health issues.

use super::*;

impl PatientRecord {
    pub(super) fn medication(&self, e: &Entry, m: &fhir::MedicationRequest) -> Option<Medication> {
        let status = MedicationStatus::of_fhir(m.status.as_deref().unwrap_or_default())?;
        if matches!(m.intent.as_deref(), Some("proposal" | "option")) || status == MedicationStatus::Draft {
            return None;
        }
        let name = m
            .medication_codeable_concept
            .as_ref()
            .and_then(|c| c.label())
            .map(str::to_string)
            .or_else(|| m.medication_reference.as_ref().and_then(|r| self.medication_name(r, m)))
            .unwrap_or_else(|| "Medication".into());
        let bounds = m.dosage_instruction.iter().find_map(|d| d.timing.as_ref()?.repeat.as_ref()?.bounds_period.as_ref());
        let instructions: Vec<String> = m
            .dosage_instruction
            .iter()
            .flat_map(|d| [d.text.as_deref(), d.patient_instruction.as_deref()])
            .flatten()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        let mut reasons: Vec<String> = m.reason_code.iter().filter_map(|c| c.label()).map(str::to_string).collect();
        for n in self.names(&m.reason_reference) {
            if !reasons.contains(&n) {
                reasons.push(n);
            }
        }
        Some(Medication {
            id: e.item.clone(),
            name,
            status,
            instructions: (!instructions.is_empty()).then(|| instructions.join(" ")),
            prescriber: m.requester.as_ref().and_then(|r| self.name(r)),
            prescribed: self.when(m.authored_on.as_deref()),
            start: self.when(bounds.and_then(|b| b.start.as_deref())),
            end: self.when(bounds.and_then(|b| b.end.as_deref())),
            status_reason: m.status_reason.as_ref().and_then(|c| c.label()).map(str::to_string),
            reasons,
        })
    }

    fn medication_name(&self, r: &Reference, m: &fhir::MedicationRequest) -> Option<String> {
        if let Some(local) = r.reference.as_deref().and_then(|s| s.strip_prefix('#')) {
            return m.contained.iter().find_map(|raw| {
                let med: fhir::Medication = serde_json::from_str(raw.get()).ok()?;
                (fhir::type_of(raw.get()).ok()? == "Medication" && med.id.as_deref() == Some(local))
                    .then(|| med.code.as_ref()?.label().map(str::to_string))
                    .flatten()
            });
        }
        self.name(r)
    }

    /// Current medications (active or on hold) by name, and past ones most recently ended
    /// first.
    pub fn medications(&self) -> Medications {
        let mut all: Vec<Medication> = self
            .entries()
            .filter_map(|e| match &e.resource {
                Resource::MedicationRequest(m) => self.medication(e, m),
                _ => None,
            })
            .collect();
        let past = all.iter().filter(|m| !m.status.is_current()).cloned().collect::<Vec<_>>();
        all.retain(|m| m.status.is_current());
        all.sort_by_key(|m| m.name.to_lowercase());
        let mut past = past;
        past.sort_by(|a, b| {
            newest_first(a.end.as_ref().or(a.start.as_ref()).or(a.prescribed.as_ref()), b.end.as_ref().or(b.start.as_ref()).or(b.prescribed.as_ref()))
        });
        Medications { current: all, past }
    }

    /// Allergies and intolerances: active first, high criticality first, then by name. A
    /// refuted or entered-in-error one is not listed; neither is a "no known allergy" statement,
    /// which sets `no_known` instead.
    pub fn allergies(&self) -> Allergies {
        let mut items = Vec::new();
        let mut no_known = None;
        for e in self.entries() {
            let Resource::AllergyIntolerance(a) = &e.resource else { continue };
            if a.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error")) {
                continue;
            }
            let code = a.code.clone().unwrap_or_default();
            // SNOMED CT's "no known allergy" family: a statement, not a substance.
            if ["716186003", "409137002", "428607008", "429625007"].iter().any(|c| code.has(SNOMED, c)) {
                no_known = code.label().map(str::to_string).or(Some("No known allergies".into()));
                continue;
            }
            let active = a.clinical_status.as_ref().is_none_or(|s| s.codes().any(|c| c == "active"));
            items.push(Allergy {
                id: e.item.clone(),
                substance: code.label().unwrap_or("Substance not named").to_string(),
                kind: match a.kind.as_deref() {
                    Some("allergy") => AllergyKind::Allergy,
                    Some("intolerance") => AllergyKind::Intolerance,
                    _ => AllergyKind::Unspecified,
                },
                categories: a.category.clone(),
                criticality: match a.criticality.as_deref() {
                    Some("low") => Some(Criticality::Low),
                    Some("high") => Some(Criticality::High),
                    Some("unable-to-assess") => Some(Criticality::Unable),
                    _ => None,
                },
                reactions: a
                    .reaction
                    .iter()
                    .map(|r| Reaction {
                        manifestations: r.manifestation.iter().filter_map(|m| m.label()).map(str::to_string).collect(),
                        severity: match r.severity.as_deref() {
                            Some("mild") => Some(Severity::Mild),
                            Some("moderate") => Some(Severity::Moderate),
                            Some("severe") => Some(Severity::Severe),
                            _ => None,
                        },
                        description: r.description.clone(),
                    })
                    .collect(),
                active,
                onset: self.when(a.onset_date_time.as_deref()),
                recorded: self.when(a.recorded_date.as_deref()),
                notes: notes(&a.note),
            });
        }
        items.sort_by_key(|a| (!a.active, a.criticality != Some(Criticality::High), a.substance.to_lowercase()));
        let no_known = no_known.filter(|_| !items.iter().any(|a| a.active));
        Allergies { items, no_known }
    }

    /// Immunizations, newest first (entered-in-error ones are not listed).
    pub fn immunizations(&self) -> Vec<Immunization> {
        let mut list: Vec<Immunization> = self
            .entries()
            .filter_map(|e| {
                let Resource::Immunization(i) = &e.resource else { return None };
                let status = match i.status.as_deref() {
                    Some("completed") => ImmunizationStatus::Given,
                    Some("not-done") => ImmunizationStatus::NotGiven,
                    _ => return None,
                };
                let dose = i.protocol_applied.iter().find_map(|p| {
                    p.dose_number_positive_int.map(|n| format!("Dose {n}")).or_else(|| p.dose_number_string.as_ref().map(|s| format!("Dose {s}")))
                });
                Some(Immunization {
                    id: e.item.clone(),
                    vaccine: i.vaccine_code.as_ref().and_then(|c| c.label()).unwrap_or("Vaccine").to_string(),
                    status,
                    status_reason: i.status_reason.as_ref().and_then(|c| c.label()).map(str::to_string),
                    date: self.when(i.occurrence_date_time.as_deref()),
                    dose,
                    site: i.site.as_ref().and_then(|c| c.label()).map(str::to_string),
                    route: i.route.as_ref().and_then(|c| c.label()).map(str::to_string),
                    given_by: self.names(i.performer.iter().filter_map(|p| p.actor.as_ref())),
                    location: i.location.as_ref().and_then(|l| self.name(l)),
                    lot_number: i.lot_number.clone(),
                    notes: notes(&i.note),
                })
            })
            .collect();
        list.sort_by(|a, b| newest_first(a.date.as_ref(), b.date.as_ref()));
        list
    }

    /// Health issues, active and resolved, newest onset first: the problem list and health
    /// concerns, and a visit's diagnoses (acute bronchitis, resolved) unless the problem list
    /// has the same condition or a newer diagnosis of it is listed (an EHR may record "type 2
    /// diabetes" as a diagnosis at every visit). Refuted and entered-in-error ones are not
    /// listed.
    pub fn health_issues(&self) -> HealthIssues {
        let mut issues = HealthIssues::default();
        let is_diagnosis = |c: &fhir::Condition| !c.category.is_empty() && c.category.iter().all(|k| k.codes().any(|code| code == "encounter-diagnosis"));
        let shown = |c: &fhir::Condition| !c.verification_status.as_ref().is_some_and(|v| v.codes().any(|c| c == "refuted" || c == "entered-in-error"));
        let conditions: Vec<(&Entry, &fhir::Condition)> = self
            .entries()
            .filter_map(|e| match &e.resource {
                Resource::Condition(c) if shown(c) => Some((e, c)),
                _ => None,
            })
            .collect();
        let key = |c: &fhir::Condition| test_key(&c.code.clone().unwrap_or_default());
        let on_problem_list: HashSet<TestKey> = conditions.iter().filter(|(_, c)| !is_diagnosis(c)).map(|(_, c)| key(c)).collect();
        // The newest diagnosis of each condition that is not on the problem list.
        let mut newest_diagnosis: HashMap<TestKey, (&Entry, Option<When>)> = HashMap::new();
        for (e, c) in conditions.iter().filter(|(_, c)| is_diagnosis(c)) {
            let k = key(c);
            if on_problem_list.contains(&k) {
                continue;
            }
            let onset = self.when(c.onset_date_time.as_deref().or(c.recorded_date.as_deref()));
            match newest_diagnosis.get(&k) {
                Some((_, seen)) if seen >= &onset => {}
                _ => {
                    newest_diagnosis.insert(k, (e, onset));
                }
            }
        }
        let kept: HashSet<&ItemId> = newest_diagnosis.values().map(|(e, _)| &e.item).collect();
        for (e, c) in conditions {
            if is_diagnosis(c) && !kept.contains(&e.item) {
                continue;
            }
            let abated = c.abatement_date_time.as_deref().or(c.abatement_period.as_ref().and_then(|p| p.end.as_deref().or(p.start.as_deref())));
            let status = match c.clinical_status.as_ref().and_then(|s| s.codes().next()) {
                Some(code) => IssueStatus::of_fhir(code),
                None if abated.is_some() || c.abatement_string.is_some() => IssueStatus::Resolved,
                None => IssueStatus::Unknown,
            };
            let issue = HealthIssue {
                id: e.item.clone(),
                name: c.code.as_ref().and_then(|c| c.label()).unwrap_or("Health issue").to_string(),
                status,
                onset: self.when(c.onset_date_time.as_deref().or(c.onset_period.as_ref().and_then(|p| p.start.as_deref()))),
                resolved: self.when(abated),
                recorded: self.when(c.recorded_date.as_deref()),
                notes: notes(&c.note),
            };
            if status.is_active() {
                issues.active.push(issue);
            } else {
                issues.resolved.push(issue);
            }
        }
        let by_onset = |a: &HealthIssue, b: &HealthIssue| newest_first(a.onset.as_ref().or(a.recorded.as_ref()), b.onset.as_ref().or(b.recorded.as_ref()));
        issues.active.sort_by(by_onset);
        issues.resolved.sort_by(|a, b| newest_first(a.resolved.as_ref(), b.resolved.as_ref()).then(by_onset(a, b)));
        issues
    }
}
