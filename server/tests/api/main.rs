//! Integration tests: the real server on a random port, on SQLite and on PostgreSQL.

mod support;

mod audit_trail;
mod headers;
mod outbox;
mod security_view;
mod sessions;
mod sign_in;
mod enrolment;
mod activation_codes;
mod recovery;
mod account_steps;
mod access;
mod access_table;
mod account_manage;
mod enrolment_races;
mod messaging;
mod messaging_admin;
mod billing;
mod second_step;
mod passkeys;
mod sign_in_cookies;
mod questionnaires;
mod telemedicine;
mod external_links;
mod maintenance;
mod operations;
mod secrets_at_rest;
mod searches;
mod record;
mod schema;
mod record_pages;
mod record_release;
mod connections;
mod rendering;
