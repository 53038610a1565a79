//! Integration tests: the real server on a random port, on SQLite and on PostgreSQL.

mod support;

mod access;
mod access_table;
mod account_manage;
mod account_steps;
mod activation_codes;
mod audit_trail;
mod billing;
mod connections;
mod enrolment;
mod enrolment_races;
mod external_links;
mod headers;
mod maintenance;
mod messaging;
mod messaging_admin;
mod operations;
mod outbox;
mod passkeys;
mod queries;
mod questionnaires;
mod record;
mod record_pages;
mod record_release;
mod recovery;
mod rendering;
mod schema;
mod searches;
mod second_step;
mod secrets_at_rest;
mod security_view;
mod sessions;
mod sign_in;
mod sign_in_cookies;
mod telemedicine;
