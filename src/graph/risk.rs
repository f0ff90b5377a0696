//! Risk flags on requested permissions: one table of rules, each with the
//! sentence a reviewer reads and, for some, a short note for the requester.

use super::Catalogue;
use crate::requests::{PermissionApi, PermissionType, Scope};

/// One rule of the table.
pub struct RiskRule {
    pub id: &'static str,
    /// A short label for the queue, such as "Every mailbox".
    pub title: &'static str,
    /// One sentence for reviewers: why it matters and what IST can do.
    pub reviewer_text: &'static str,
    /// Shown to the requester when they pick a matching permission.
    pub requester_note: Option<&'static str>,
    pub applies: fn(&Scope) -> bool,
}

/// Graph application permissions that reach every mailbox's contents, and
/// that Exchange Online RBAC for Applications can limit to some mailboxes.
pub const MAILBOX_WIDE_GRAPH: [&str; 11] = [
    "Mail.Send",
    "Mail.ReadWrite",
    "Mail.Read",
    "Mail.ReadBasic",
    "Mail.ReadBasic.All",
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Contacts.Read",
    "Contacts.ReadWrite",
    "MailboxSettings.Read",
    "MailboxSettings.ReadWrite",
];
const EXCHANGE_PROTOCOL: [&str; 4] = ["full_access_as_app", "SMTP.SendAsApp", "IMAP.AccessAsApp", "POP.AccessAsApp"];

fn is_application(scope: &Scope) -> bool {
    scope.permission_type == PermissionType::Application
}

fn named(scope: &Scope, api: PermissionApi, names: &[&str]) -> bool {
    scope.api == api && names.iter().any(|name| name.eq_ignore_ascii_case(&scope.name))
}

fn needs_admin_consent(scope: &Scope) -> bool {
    if !is_application(scope) {
        return false;
    }
    let catalogue = match scope.api {
        PermissionApi::MicrosoftGraph => Catalogue::shipped(),
        PermissionApi::ExchangeOnline => Catalogue::exchange_online(),
        // Entra ID requires an administrator's consent for every application
        // permission, so an unknown API's are treated the same way.
        PermissionApi::Other => return true,
    };
    catalogue
        .find(&scope.name)
        .iter()
        .find(|permission| permission.permission_type == PermissionType::Application)
        .is_none_or(|permission| permission.admin_consent_required)
}

fn tenant_wide_mailbox(scope: &Scope) -> bool {
    is_application(scope) && named(scope, PermissionApi::MicrosoftGraph, &MAILBOX_WIDE_GRAPH)
}

/// Matches write and full-control permissions whose reach is the whole
/// organisation: names ending in .All or .Directory, such as
/// Files.ReadWrite.All, Sites.FullControl.All or RoleManagement.ReadWrite.Directory.
fn tenant_wide_write(scope: &Scope) -> bool {
    let name = scope.name.to_ascii_lowercase();
    (name.ends_with(".all") || name.ends_with(".directory")) && (name.contains("write") || name.contains("fullcontrol"))
}

fn mailbox_protocol(scope: &Scope) -> bool {
    is_application(scope) && named(scope, PermissionApi::ExchangeOnline, &EXCHANGE_PROTOCOL)
}

fn unlisted(scope: &Scope) -> bool {
    scope.unlisted && scope.api != PermissionApi::Other
}

fn other_api(scope: &Scope) -> bool {
    scope.api == PermissionApi::Other
}

/// The rules, in the order flags are shown.
pub static RULES: [RiskRule; 6] = [
    RiskRule {
        id: "tenant_wide_mailbox",
        title: "Every mailbox",
        reviewer_text: "As an application permission this reaches every mailbox at the university, so IST should limit it to the sending mailbox with Exchange Online RBAC for Applications (not a new application access policy, which Microsoft advises against) and must not leave a tenant-wide Entra grant beside the scoped role, which would undo the limit.",
        requester_note: Some(
            "As an application permission this would let the application reach every mailbox at the university. IST will limit it to your sending address, which adds steps to the review.",
        ),
        applies: tenant_wide_mailbox,
    },
    RiskRule {
        id: "mailbox_protocol",
        title: "Mailbox protocol access",
        reviewer_text: "This Exchange Online permission opens mailboxes over EWS, SMTP, IMAP or POP with no one signed in, so IST should give the application access to the sending mailbox only and ask whether Microsoft Graph would do instead.",
        requester_note: Some(
            "This permission opens mailboxes with no one signed in. IST will give the application access to your sending mailbox only, and may ask whether the vendor supports Microsoft Graph instead.",
        ),
        applies: mailbox_protocol,
    },
    RiskRule {
        id: "tenant_wide_write",
        title: "Tenant-wide write",
        reviewer_text: "A write or full-control permission ending in .All or .Directory can change data across the whole organisation, so IST should ask whether a narrower permission, such as a .Selected or signed-in-user one, would do.",
        requester_note: Some(
            "This permission can change data across the whole university. IST will ask whether a narrower permission would do.",
        ),
        applies: tenant_wide_write,
    },
    RiskRule {
        id: "admin_consent",
        title: "Admin consent",
        reviewer_text: "An administrator must consent to this application permission for the whole tenant, so IST should grant it only when the application has to act with no one signed in.",
        requester_note: None,
        applies: needs_admin_consent,
    },
    RiskRule {
        id: "unlisted",
        title: "Check by hand",
        reviewer_text: "Neither Microsoft's published Graph catalogue nor the built-in Exchange Online list has this name, so IST must confirm in Entra ID that it exists and what it allows before granting it.",
        requester_note: None,
        applies: unlisted,
    },
    RiskRule {
        id: "other_api",
        title: "Another API",
        reviewer_text: "This permission belongs to an API that the service cannot check, so IST must confirm with the vendor and in Entra ID what it allows before granting it.",
        requester_note: None,
        applies: other_api,
    },
];

/// Returns the rules one permission triggers, in table order.
pub fn flags(scope: &Scope) -> Vec<&'static RiskRule> {
    RULES.iter().filter(|rule| (rule.applies)(scope)).collect()
}

/// Returns the rules any of a request's permissions trigger, each once, in table order.
pub fn request_flags(scopes: &[Scope]) -> Vec<&'static RiskRule> {
    RULES.iter().filter(|rule| scopes.iter().any(|scope| (rule.applies)(scope))).collect()
}

/// Returns the notes to show the requester for one permission.
pub fn requester_notes(scope: &Scope) -> Vec<&'static str> {
    flags(scope).into_iter().filter_map(|rule| rule.requester_note).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(api: PermissionApi, name: &str, permission_type: PermissionType) -> Scope {
        Scope {
            api,
            api_name: (api == PermissionApi::Other).then(|| "Vendor API".to_owned()),
            name: name.to_owned(),
            permission_type,
            unlisted: api == PermissionApi::Other,
            justification: None,
        }
    }

    fn graph(name: &str, permission_type: PermissionType) -> Scope {
        scope(PermissionApi::MicrosoftGraph, name, permission_type)
    }

    fn ids(scope: &Scope) -> Vec<&'static str> {
        flags(scope).iter().map(|rule| rule.id).collect()
    }

    fn rule(id: &str) -> &'static RiskRule {
        RULES.iter().find(|rule| rule.id == id).expect("rule exists")
    }

    #[test]
    fn tenant_wide_mailbox_fires_on_application_mail_send() {
        assert!((rule("tenant_wide_mailbox").applies)(&graph("Mail.Send", PermissionType::Application)));
    }

    #[test]
    fn tenant_wide_mailbox_fires_on_application_mail_read() {
        assert!((rule("tenant_wide_mailbox").applies)(&graph("Mail.Read", PermissionType::Application)));
    }

    #[test]
    fn mailbox_rule_skips_delegated_mail_send() {
        assert!(!(rule("tenant_wide_mailbox").applies)(&graph("Mail.Send", PermissionType::Delegated)));
    }

    #[test]
    fn mailbox_protocol_fires_on_smtp_send_as_app() {
        let smtp = scope(PermissionApi::ExchangeOnline, "SMTP.SendAsApp", PermissionType::Application);
        assert!((rule("mailbox_protocol").applies)(&smtp));
    }

    #[test]
    fn mailbox_protocol_fires_on_full_access_as_app() {
        let ews = scope(PermissionApi::ExchangeOnline, "full_access_as_app", PermissionType::Application);
        assert!((rule("mailbox_protocol").applies)(&ews));
    }

    #[test]
    fn mailbox_protocol_is_silent_on_delegated_ews() {
        let ews = scope(PermissionApi::ExchangeOnline, "EWS.AccessAsUser.All", PermissionType::Delegated);
        assert!(!(rule("mailbox_protocol").applies)(&ews));
    }

    #[test]
    fn tenant_wide_write_fires_on_read_write_all() {
        assert!((rule("tenant_wide_write").applies)(&graph("Files.ReadWrite.All", PermissionType::Delegated)));
    }

    #[test]
    fn tenant_wide_write_fires_on_full_control_all() {
        assert!((rule("tenant_wide_write").applies)(&graph("Sites.FullControl.All", PermissionType::Application)));
    }

    #[test]
    fn tenant_wide_write_fires_on_directory_write() {
        let role_management = graph("RoleManagement.ReadWrite.Directory", PermissionType::Application);
        assert!((rule("tenant_wide_write").applies)(&role_management));
    }

    #[test]
    fn mailbox_rule_flags_calendars_read_write() {
        assert!((rule("tenant_wide_mailbox").applies)(&graph("Calendars.ReadWrite", PermissionType::Application)));
    }

    #[test]
    fn every_mailbox_wide_permission_gets_a_plan() {
        for name in MAILBOX_WIDE_GRAPH {
            let scopes = [graph(name, PermissionType::Application)];
            let input = crate::review::plan::PlanInput {
                reference: "IST-AR-2026-000001",
                application_name: "Bookings",
                sending_address: "bookings@uwaterloo.ca",
                client_id: None,
                scopes: &scopes,
            };
            assert!(crate::review::plan::least_privilege_plan(&input).is_some(), "{name} has no plan");
        }
    }

    #[test]
    fn tenant_wide_write_is_silent_on_read_all() {
        assert!(!(rule("tenant_wide_write").applies)(&graph("User.Read.All", PermissionType::Application)));
    }

    #[test]
    fn admin_consent_fires_on_application_user_read_all() {
        assert!((rule("admin_consent").applies)(&graph("User.Read.All", PermissionType::Application)));
    }

    #[test]
    fn admin_consent_is_silent_on_delegated_user_read() {
        assert!(!(rule("admin_consent").applies)(&graph("User.Read", PermissionType::Delegated)));
    }

    #[test]
    fn unlisted_fires_on_confirmed_graph_name() {
        let confirmed = Scope { unlisted: true, ..graph("Reports.ReadSecret", PermissionType::Delegated) };
        assert!((rule("unlisted").applies)(&confirmed));
    }

    #[test]
    fn unlisted_is_silent_on_other_api() {
        assert!(!(rule("unlisted").applies)(&scope(PermissionApi::Other, "Sites.Manage", PermissionType::Delegated)));
    }

    #[test]
    fn other_api_fires_on_other_api() {
        assert!((rule("other_api").applies)(&scope(PermissionApi::Other, "reports:read", PermissionType::Delegated)));
    }

    #[test]
    fn other_api_is_silent_on_graph() {
        assert!(!(rule("other_api").applies)(&graph("Mail.Send", PermissionType::Delegated)));
    }

    #[test]
    fn mailbox_rule_flags_mail_read_basic_all() {
        assert!((rule("tenant_wide_mailbox").applies)(&graph("Mail.ReadBasic.All", PermissionType::Application)));
    }

    #[test]
    fn unlisted_is_silent_on_catalogue_name() {
        assert!(!(rule("unlisted").applies)(&graph("Mail.Send", PermissionType::Delegated)));
    }

    #[test]
    fn safe_permission_has_no_flags() {
        assert_eq!(ids(&graph("User.Read", PermissionType::Delegated)), Vec::<&str>::new());
    }

    #[test]
    fn application_mail_send_flags_in_table_order() {
        assert_eq!(ids(&graph("Mail.Send", PermissionType::Application)), vec!["tenant_wide_mailbox", "admin_consent"]);
    }

    #[test]
    fn request_flags_list_each_rule_once() {
        let scopes = [graph("Mail.Send", PermissionType::Application), graph("Mail.Read", PermissionType::Application)];
        let found: Vec<&str> = request_flags(&scopes).iter().map(|rule| rule.id).collect();
        assert_eq!(found, vec!["tenant_wide_mailbox", "admin_consent"]);
    }

    #[test]
    fn requester_sees_note_for_application_mail_send() {
        assert_eq!(requester_notes(&graph("Mail.Send", PermissionType::Application)).len(), 1);
    }

    #[test]
    fn every_rule_has_one_sentence_for_reviewers() {
        for rule in &RULES {
            assert_eq!(rule.reviewer_text.matches(". ").count(), 0, "{} has more than one sentence", rule.id);
        }
    }
}
