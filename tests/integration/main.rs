//! The integration tests: one binary (each extra test binary costs link time). Every test that
//! touches storage runs on the backend that `CPAUDIT_TEST_DATABASE_URL` names (see `support`).

mod access;
mod api;
mod app_rounds;
mod app_use_cases;
mod architecture;
mod audit_trail;
mod cli_rules;
mod conflicts;
mod consultancies;
mod corrupt_rows;
mod crawl;
mod cycle;
mod documents;
mod draw_cli;
mod draws;
mod enforcement;
mod every_form;
mod evidence;
mod experts;
mod forms;
mod hj212_durability;
mod hj212_receiver;
mod import_export;
mod monitoring_judgement;
mod monitoring_pages;
mod notices;
mod options;
mod page_parity;
mod parks;
mod public_lists;
mod registry;
mod reviews;
mod round_flow;
mod rounds;
mod support;
