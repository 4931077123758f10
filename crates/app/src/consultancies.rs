//! Consultancies as the audit round reads them: the refusal of new business while a
//! blacklisting is in force.

use cpaudit_core::consultancy::{refuses_business, Sanction, SanctionEnd};
use cpaudit_core::registry::Message;
use cpaudit_storage::consultancies::SanctionRow;

use crate::{App, Result};

/// The core view of a stored sanction.
pub fn core_sanction(row: &SanctionRow) -> Sanction {
    Sanction {
        kind: row.kind,
        reason: row.reason.clone(),
        legal_basis: row.legal_basis.clone(),
        starts_on: row.starts_on,
        ends: match row.ends_on {
            Some(last) => SanctionEnd::Until(last),
            None => SanctionEnd::UntilCorrected,
        },
        lifted_on: row.lifted_on,
        lifted_reason: row.lifted_reason.clone(),
    }
}

/// Why new business naming this consultancy is refused today, in both languages; `None` while
/// no sanction in force refuses it.
pub async fn refusal_of(app: &App, consultancy_id: i64) -> Result<Option<Message>> {
    let sanctions: Vec<Sanction> = app
        .db()
        .sanctions(Some(consultancy_id))
        .await?
        .iter()
        .map(core_sanction)
        .collect();
    Ok(refuses_business(&sanctions, app.today())
        .map(|refusal| Message::new(refusal.message_zh, refusal.message_en)))
}
