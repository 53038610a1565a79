//! Test results, vital signs and trends, as read from Observations and DiagnosticReports.

use super::*;

impl PatientRecord {
    fn observations(&self) -> impl Iterator<Item = (&Entry, &fhir::Observation)> {
        self.entries().filter_map(|e| match &e.resource {
            Resource::Observation(o) => Some((e, o)),
            _ => None,
        })
    }

    fn result_of(&self, e: &Entry, o: &fhir::Observation, panel: Option<(&ItemId, Option<String>)>) -> Option<TestResult> {
        let status = ResultStatus::of_fhir(o.status.as_deref().unwrap_or_default())?;
        let (value, range, flag) = value_range_flag(
            o.value_quantity.as_ref(),
            o.value_string.as_deref(),
            o.value_codeable_concept.as_ref(),
            o.value_integer,
            o.value_boolean,
            o.data_absent_reason.as_ref(),
            &o.interpretation,
            &o.reference_range,
        );
        let parts: Vec<ResultPart> = o
            .component
            .iter()
            .map(|c| {
                let (value, range, flag) = value_range_flag(
                    c.value_quantity.as_ref(),
                    c.value_string.as_deref(),
                    c.value_codeable_concept.as_ref(),
                    c.value_integer,
                    c.value_boolean,
                    c.data_absent_reason.as_ref(),
                    &c.interpretation,
                    &c.reference_range,
                );
                let code = c.code.clone().unwrap_or_default();
                ResultPart { name: code.label().unwrap_or("Part").to_string(), key: test_key(&code), value, range, flag }
            })
            .collect();
        let flag = parts.iter().fold(flag, |f, p| f.worse(p.flag));
        let code = o.code.clone().unwrap_or_default();
        Some(TestResult {
            id: e.item.clone(),
            name: code.label().unwrap_or("Test").to_string(),
            key: test_key(&code),
            kind: kind_of(&o.category),
            value,
            parts,
            range,
            flag,
            status,
            collected: self
                .when(o.effective_date_time.as_deref().or(o.effective_instant.as_deref()).or(o.effective_period.as_ref().and_then(|p| p.start.as_deref()))),
            resulted: self.when(o.issued.as_deref()),
            ordered_by: panel.as_ref().and_then(|(_, by)| by.clone()),
            performed_by: self.names(&o.performer),
            comments: notes(&o.note),
            panel: panel.map(|(id, _)| id.clone()),
            visit: self.item_of(o.encounter.as_ref(), ResourceType::Encounter),
        })
    }

    /// The orderer and the other performers of a report. FHIR has no "ordered by" on a report
    /// (it is the requester of the order it is `basedOn`); EHRs and the demo list the ordering
    /// clinician as the report's Practitioner performer and the laboratory as its Organization
    /// performer, so: the first Practitioner (or PractitionerRole) performer who is not also
    /// the interpreter orders; everyone else performed.
    fn report_people(&self, d: &fhir::DiagnosticReport) -> (Option<String>, Vec<String>, Vec<String>) {
        let interpreters = self.names(&d.results_interpreter);
        let mut ordered_by = None;
        let mut performed = Vec::new();
        for p in &d.performer {
            let is_person = p.target().is_some_and(|(k, _)| k == "Practitioner" || k == "PractitionerRole");
            let Some(name) = self.name(p) else { continue };
            if is_person && ordered_by.is_none() && !interpreters.contains(&name) {
                ordered_by = Some(name);
            } else if !performed.contains(&name) {
                performed.push(name);
            }
        }
        (ordered_by, performed, interpreters)
    }

    /// Test results: lab and other results (not vital signs, social history or survey
    /// answers), panels with their members, newest first.
    pub fn test_results(&self) -> TestResults {
        self.results_where(|_| true)
    }

    pub(super) fn results_where(&self, keep: impl Fn(&Entry) -> bool) -> TestResults {
        let mut panels = Vec::new();
        let mut in_panel: HashSet<&ItemId> = HashSet::new();
        for e in self.entries().filter(|e| keep(e)) {
            let (members, p) = match &e.resource {
                Resource::DiagnosticReport(d) => {
                    let Some(status) = ResultStatus::of_fhir(d.status.as_deref().unwrap_or_default()) else { continue };
                    let (ordered_by, performed_by, interpreted_by) = self.report_people(d);
                    let code = d.code.clone().unwrap_or_default();
                    let panel = Panel {
                        id: e.item.clone(),
                        name: code.label().unwrap_or("Test results").to_string(),
                        kind: report_kind(&d.category),
                        status,
                        collected: self.when(d.effective_date_time.as_deref().or(d.effective_period.as_ref().and_then(|p| p.start.as_deref()))),
                        resulted: self.when(d.issued.as_deref()),
                        ordered_by,
                        performed_by,
                        interpreted_by,
                        conclusion: d.conclusion.clone().filter(|c| !c.trim().is_empty()),
                        results: Vec::new(),
                        flag: Flag::None,
                        visit: self.item_of(d.encounter.as_ref(), ResourceType::Encounter),
                    };
                    (&d.result, panel)
                }
                // An Observation that groups others (`hasMember`) is a panel too.
                Resource::Observation(o) if !o.has_member.is_empty() && is_result_category(&o.category) => {
                    let Some(status) = ResultStatus::of_fhir(o.status.as_deref().unwrap_or_default()) else { continue };
                    let code = o.code.clone().unwrap_or_default();
                    let panel = Panel {
                        id: e.item.clone(),
                        name: code.label().unwrap_or("Test results").to_string(),
                        kind: kind_of(&o.category),
                        status,
                        collected: self.when(
                            o.effective_date_time
                                .as_deref()
                                .or(o.effective_instant.as_deref())
                                .or(o.effective_period.as_ref().and_then(|p| p.start.as_deref())),
                        ),
                        resulted: self.when(o.issued.as_deref()),
                        ordered_by: None,
                        performed_by: self.names(&o.performer),
                        interpreted_by: Vec::new(),
                        conclusion: None,
                        results: Vec::new(),
                        flag: Flag::None,
                        visit: self.item_of(o.encounter.as_ref(), ResourceType::Encounter),
                    };
                    in_panel.insert(&e.item);
                    (&o.has_member, panel)
                }
                _ => continue,
            };
            let mut panel = p;
            for r in members {
                let Some(member) = self.resolve(r) else { continue };
                if let Resource::Observation(o) = &member.resource {
                    in_panel.insert(&member.item);
                    if let Some(result) = self.result_of(member, o, Some((&panel.id, panel.ordered_by.clone()))) {
                        panel.flag = panel.flag.worse(result.flag);
                        panel.results.push(result);
                    }
                }
            }
            panels.push(panel);
        }
        let mut single: Vec<TestResult> = self
            .observations()
            .filter(|(e, o)| keep(e) && is_result_category(&o.category) && !in_panel.contains(&e.item))
            .filter_map(|(e, o)| self.result_of(e, o, None))
            .collect();
        panels.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
        single.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
        TestResults { panels, single }
    }

    /// Vital signs (blood pressure, weight, BMI, heart rate…), newest first.
    pub fn vitals(&self) -> Vec<TestResult> {
        let mut v: Vec<TestResult> = self.observations().filter(|(_, o)| is_vital(&o.category)).filter_map(|(e, o)| self.result_of(e, o, None)).collect();
        v.sort_by(|a, b| newest_first(a.collected.as_ref(), b.collected.as_ref()));
        v
    }

    /// The tests that have numeric values, for a list of trends: vital signs first, then by
    /// name.
    pub fn trend_choices(&self) -> Vec<TrendChoice> {
        self.trend_choices_with(&self.test_results())
    }

    /// The same, from the record's test results converted already (`test_results()`, whole):
    /// Test Results needs both, and converting the record twice was half of its page's cost.
    pub fn trend_choices_with(&self, results: &TestResults) -> Vec<TrendChoice> {
        let vitals = self.vitals();
        let mut by_key: HashMap<&TestKey, TrendChoice> = HashMap::new();
        for r in results.all().into_iter().chain(vitals.iter()) {
            let numeric = r.number().is_some() || r.parts.iter().any(|p| plain_number(&p.value).is_some());
            if !numeric {
                continue;
            }
            let when = r.collected.as_ref().or(r.resulted.as_ref());
            let c =
                by_key.entry(&r.key).or_insert_with(|| TrendChoice { key: r.key.clone(), name: r.name.clone(), kind: r.kind.clone(), values: 0, latest: None });
            c.values += 1;
            if when.is_some() && c.latest.as_ref() < when {
                c.latest = when.cloned();
                c.name = r.name.clone();
            }
        }
        let mut list: Vec<TrendChoice> = by_key.into_values().collect();
        list.sort_by_key(|a| (a.kind != ResultKind::VitalSigns, a.name.to_lowercase()));
        list
    }

    /// One test over time: a series for its values, or one per part (blood pressure: systolic
    /// and diastolic). Only values in the unit of the newest one are drawn (a change of unit
    /// would draw a false jump), and only plain numbers ("< 5" is not a point). None when the
    /// record has no such numeric test.
    pub fn trend(&self, key: &TestKey) -> Option<Trend> {
        self.trend_with(&self.test_results(), key)
    }

    /// The same, from the record's test results converted already (`test_results()`, whole).
    pub fn trend_with(&self, results: &TestResults, key: &TestKey) -> Option<Trend> {
        let vitals = self.vitals();
        let mut results: Vec<TestResult> = results.all().into_iter().chain(vitals.iter()).filter(|r| &r.key == key).cloned().collect();
        results.retain(|r| r.collected.is_some() || r.resulted.is_some());
        results.sort_by(|a, b| newest_first(b.collected.as_ref().or(b.resulted.as_ref()), a.collected.as_ref().or(a.resulted.as_ref())));
        let newest = results.last()?.clone();
        // (series name, key of the part or none, unit) in the order they first appear
        let mut lines: Vec<(String, Option<TestKey>)> = Vec::new();
        if results.iter().any(|r| !r.parts.is_empty()) {
            for r in results.iter().rev() {
                for p in &r.parts {
                    if !lines.iter().any(|(_, k)| k.as_ref() == Some(&p.key)) {
                        lines.push((p.name.clone(), Some(p.key.clone())));
                    }
                }
            }
        } else {
            lines.push((newest.name.clone(), None));
        }
        let mut series = Vec::new();
        for (name, part) in lines {
            let values: Vec<(When, &ResultValue, Option<&ReferenceRange>, Flag, &ItemId)> = results
                .iter()
                .filter_map(|r| {
                    let at = r.collected.clone().or(r.resulted.clone())?;
                    match &part {
                        None => Some((at, &r.value, r.range.as_ref(), r.flag, &r.id)),
                        Some(k) => r.parts.iter().find(|p| &p.key == k).map(|p| (at, &p.value, p.range.as_ref(), p.flag, &r.id)),
                    }
                })
                .collect();
            let unit_of = |v: &ResultValue| v.amount().map(|a| a.unit_code.clone().or(a.unit.clone()));
            let Some(unit) = values.iter().rev().find_map(|(_, v, ..)| plain_number(v).and(unit_of(v))) else { continue };
            let shown_unit = values.iter().rev().find_map(|(_, v, ..)| v.amount().filter(|_| plain_number(v).is_some()).and_then(|a| a.unit.clone()));
            let points: Vec<TrendPoint> = values
                .iter()
                .filter(|(_, v, ..)| unit_of(v) == Some(unit.clone()))
                .filter_map(|(at, v, _, flag, id)| Some(TrendPoint { at: at.clone(), value: plain_number(v)?, flag: *flag, result: (*id).clone() }))
                .collect();
            let range =
                values.iter().rev().filter(|(_, v, ..)| unit_of(v) == Some(unit.clone())).find_map(|(_, _, r, ..)| r.filter(|r| r.is_numeric()).cloned());
            if !points.is_empty() {
                series.push(Series { name, unit: shown_unit, points, range });
            }
        }
        (!series.is_empty()).then(|| Trend { key: key.clone(), name: newest.name.clone(), kind: newest.kind.clone(), series })
    }
}
