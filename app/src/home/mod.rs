//! The two home pages: the patient's home (`/home`, with the Health Summary of their record) and
//! the staff overview (`/staff`, what each role works on). Every other page belongs to its
//! feature (messaging, record, billing, …); `patients` is the staff's work on patient records.

mod patient;
mod staff;

pub use patient::HomePage;
pub use staff::StaffHomePage;
