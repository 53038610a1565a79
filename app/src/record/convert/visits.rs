//! Visits (Encounters) and documents (DocumentReferences), with where a document's content is.

use super::*;

impl PatientRecord {
    fn visit_summary(&self, e: &Entry, v: &fhir::Encounter) -> Option<VisitSummary> {
        let status = VisitStatus::of_fhir(v.status.as_deref().unwrap_or_default())?;
        let setting = v.class.as_ref().and_then(|c| {
            Some(
                match c.code.as_deref() {
                    Some("AMB") => "Outpatient",
                    Some("EMER") => "Emergency",
                    Some("IMP" | "ACUTE" | "NONAC") => "Hospital stay",
                    Some("OBSENC") => "Observation",
                    Some("VR") => "Virtual",
                    Some("HH") => "Home",
                    _ => return c.display.clone(),
                }
                .to_string(),
            )
        });
        let mut reasons: Vec<String> = v.reason_code.iter().filter_map(|c| c.label()).map(str::to_string).collect();
        for n in self.names(&v.reason_reference) {
            if !reasons.contains(&n) {
                reasons.push(n);
            }
        }
        Some(VisitSummary {
            id: e.item.clone(),
            start: self.when(v.period.as_ref().and_then(|p| p.start.as_deref())),
            end: self.when(v.period.as_ref().and_then(|p| p.end.as_deref())),
            kind: v.kind.iter().find_map(|k| k.label()).map(str::to_string).or_else(|| setting.clone()).unwrap_or_else(|| "Visit".into()),
            setting,
            status,
            place: v
                .location
                .iter()
                .filter_map(|l| l.location.as_ref())
                .find_map(|l| self.name(l))
                .or_else(|| v.service_provider.as_ref().and_then(|s| self.name(s))),
            clinicians: self.names(v.participant.iter().filter_map(|p| p.individual.as_ref())),
            reasons,
        })
    }

    /// Past visits (finished, in progress, or of unknown status; planned and cancelled ones
    /// are not visits had), newest first.
    pub fn visits(&self) -> Vec<VisitSummary> {
        let mut list: Vec<VisitSummary> = self
            .entries()
            .filter_map(|e| match &e.resource {
                Resource::Encounter(v) => self.visit_summary(e, v),
                _ => None,
            })
            .filter(|v| !matches!(v.status, VisitStatus::Planned | VisitStatus::Cancelled))
            .collect();
        list.sort_by(|a, b| newest_first(a.start.as_ref(), b.start.as_ref()));
        list
    }

    /// One visit with its diagnoses, vital signs, results and released documents; none when
    /// `id` is no visit of this record.
    pub fn visit(&self, id: &ItemId) -> Option<Visit> {
        let e = self.entry(id)?;
        let Resource::Encounter(v) = &e.resource else { return None };
        let summary = self.visit_summary(e, v)?;
        let mut ranked: Vec<(u32, String)> = v.diagnosis.iter().filter_map(|d| Some((d.rank.unwrap_or(u32::MAX), self.name(d.condition.as_ref()?)?))).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let mut diagnoses: Vec<String> = Vec::new();
        for (_, name) in ranked {
            if !diagnoses.contains(&name) {
                diagnoses.push(name);
            }
        }
        for e2 in self.entries() {
            if let Resource::Condition(c) = &e2.resource {
                if self.item_of(c.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id) {
                    if let Some(name) = c.code.as_ref().and_then(|c| c.label()) {
                        if !diagnoses.iter().any(|d| d == name) {
                            diagnoses.push(name.to_string());
                        }
                    }
                }
            }
        }
        let vitals = self.vitals().into_iter().filter(|r| r.visit.as_ref() == Some(id)).collect();
        let results = self.results_where(|entry| match &entry.resource {
            Resource::Observation(o) => self.item_of(o.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id),
            Resource::DiagnosticReport(d) => self.item_of(d.encounter.as_ref(), ResourceType::Encounter).as_ref() == Some(id),
            _ => false,
        });
        let documents = self.documents().into_iter().filter(|d| d.visit.as_ref() == Some(id)).collect();
        Some(Visit { summary, diagnoses, vitals, results, documents })
    }

    pub(super) fn document(&self, e: &Entry, d: &fhir::DocumentReference) -> Option<Document> {
        // Released to the patient: the current version, not a draft.
        if d.status.as_deref() != Some("current") || matches!(d.doc_status.as_deref(), Some("preliminary" | "entered-in-error")) {
            return None;
        }
        let attachment = d.content.iter().filter_map(|c| c.attachment.as_ref()).find(|a| a.data.is_some() || a.url.is_some())?;
        let kind = d.kind.as_ref().and_then(|k| k.label()).or_else(|| d.category.iter().find_map(|c| c.label())).unwrap_or("Document").to_string();
        let after_visit_summary =
            d.kind.as_ref().is_some_and(|k| k.has(LOINC, "34133-9") || k.label().is_some_and(|l| l.to_lowercase().contains("after visit")));
        Some(Document {
            id: e.item.clone(),
            title: attachment
                .title
                .as_deref()
                .or(d.description.as_deref())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| kind.clone()),
            kind,
            date: self.when(d.date.as_deref().or(d.context.as_ref().and_then(|c| c.period.as_ref()?.start.as_deref()))),
            authors: self.names(&d.author),
            content_type: attachment.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            size: attachment.size.or_else(|| attachment.data.as_ref().map(|b| (b.trim_end_matches('=').len() * 3 / 4) as u64)),
            visit: d.context.as_ref().and_then(|c| c.encounter.iter().find_map(|r| self.item_of(Some(r), ResourceType::Encounter))),
            after_visit_summary,
        })
    }

    /// Documents released to the patient, newest first.
    pub fn documents(&self) -> Vec<Document> {
        let mut list: Vec<Document> = self
            .entries()
            .filter_map(|e| match &e.resource {
                Resource::DocumentReference(d) => self.document(e, d),
                _ => None,
            })
            .collect();
        list.sort_by(|a, b| newest_first(a.date.as_ref(), b.date.as_ref()));
        list
    }

    /// Where a document's content is: inline (decoded here), or at a URL the source must
    /// fetch. None when `id` is no released document of this record (or its data is not base64).
    pub fn document_content(&self, id: &ItemId) -> Option<ContentAt> {
        let e = self.entry(id)?;
        let Resource::DocumentReference(d) = &e.resource else { return None };
        let doc = self.document(e, d)?;
        let attachment = d.content.iter().filter_map(|c| c.attachment.as_ref()).find(|a| a.data.is_some() || a.url.is_some())?;
        let file_name = file_name(&doc.title, &doc.content_type);
        match (&attachment.data, &attachment.url) {
            (Some(data), _) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()).ok()?;
                Some(ContentAt::Inline(DocumentContent { content_type: doc.content_type, file_name, bytes }))
            }
            (None, Some(url)) => Some(ContentAt::Url { url: url.clone(), content_type: doc.content_type, file_name }),
            (None, None) => None,
        }
    }
}
