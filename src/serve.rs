//! `cpaudit serve`: the one place of the binary that builds the web application. The other
//! commands reach the use cases through the application layer.

use std::sync::Arc;

use anyhow::{Context, Result};
use cpaudit_app::jobs::Scheduler;
use cpaudit_app::{App, SystemClock};
use cpaudit_core::reference::ReferenceData;
use cpaudit_web::{AppState, WebSettings};

use crate::config::Settings;
use crate::setup;

/// Serves the web interface and the API (with the HJ 212 receiver and the notice scheduler
/// beside them) until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings, reference: ReferenceData, demo: bool) -> Result<()> {
    let db = setup::open_database(&settings.database_url, &reference).await?;
    let logins = if demo {
        let now = chrono::Utc::now();
        let fresh = db.is_empty().await?;
        let logins = setup::load_demo(&db, &reference, setup::DEMO_ENTERPRISES, now).await?;
        if fresh {
            // Rounds in every state, walked through their steps on past dates.
            let today = cpaudit_storage::evidence::china_date(now);
            let walked = crate::demo_rounds::walk_demo_rounds(
                &db,
                &reference,
                setup::demo_published_on(today),
                now,
            )
            .await?;
            tracing::info!(?walked, "demo rounds walked into their states");
            setup::load_demo_monitoring(&db, &reference, setup::DEMO_ENTERPRISES, now).await?;
        }
        Some(logins)
    } else {
        None
    };
    let web = WebSettings {
        max_upload_bytes: settings.max_upload_mib * 1024 * 1024,
        max_document_bytes: settings.max_document_mib * 1024 * 1024,
        session_lifetime: chrono::Duration::hours(settings.session_hours),
        secure_cookies: settings.secure_cookies,
        device_offline_after: chrono::Duration::minutes(i64::from(
            settings.device_offline_after_minutes,
        )),
        ..WebSettings::default()
    };
    let throttle = web.throttle;
    let state = AppState::new(App::new(db.clone(), reference, Arc::new(SystemClock)), web);
    let scheduler = Scheduler {
        interval: std::time::Duration::from_secs(settings.notice_interval_minutes * 60),
        email: settings.notice_email,
        ..Scheduler::default()
    };
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener.local_addr()?;
    println!("cpaudit is serving http://{address}/");
    let receiver = match settings.hj212.clone() {
        Some(config) => {
            let receiver = cpaudit_ingest::Receiver::start(db.clone(), config).await?;
            state.set_metrics(receiver.renderer());
            println!(
                "cpaudit is receiving HJ 212 on tcp://{}",
                receiver.local_addr()
            );
            if settings.hj212.as_ref().is_some_and(|c| c.ack_before_commit) {
                println!("WARNING: TEST ONLY: HJ 212 packets are acknowledged before commit");
            }
            Some(receiver)
        }
        None => None,
    };
    println!(
        "database: {}",
        cpaudit_storage::redact_url(&settings.database_url)
    );
    if let Some(logins) = logins {
        println!("demo logins (password: {}):", setup::DEMO_PASSWORD);
        for login in logins {
            println!("  {:<12} {}", login.username, login.description);
        }
    }
    let housekeeping = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(error) = db.purge_expired(chrono::Utc::now(), throttle).await {
                    tracing::warn!(%error, "housekeeping failed");
                }
            }
        }
    });
    let notices = tokio::spawn(scheduler.run(state.app().clone()));
    axum::serve(listener, cpaudit_web::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    if let Some(receiver) = receiver {
        receiver.shutdown().await;
    }
    notices.abort();
    housekeeping.abort();
    db.close().await;
    println!("cpaudit stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, close the database.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
