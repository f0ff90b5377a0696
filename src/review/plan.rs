//! The least-privilege plan shown to reviewers on an app-registration
//! request for application mailbox permissions: the Exchange Online
//! PowerShell steps that limit the application to its sending mailbox.
//!
//! The cmdlets, parameters and role names follow these Microsoft pages:
//!
//! - Role Based Access Control for Applications in Exchange Online, for the
//!   application roles, management scopes and the advice on Entra ID consent
//!   and application access policies:
//!   <https://learn.microsoft.com/exchange/permissions-exo/application-rbac>
//! - New-ServicePrincipal (`-AppId`, `-ObjectId`, `-DisplayName`):
//!   <https://learn.microsoft.com/powershell/module/exchange/new-serviceprincipal>
//! - New-ManagementRoleAssignment, whose `-App` takes the service principal's
//!   object ID: <https://learn.microsoft.com/powershell/module/exchange/new-managementroleassignment>
//! - Test-ServicePrincipalAuthorization (`-Identity`, `-Resource`):
//!   <https://learn.microsoft.com/powershell/module/exchange/test-serviceprincipalauthorization>
//! - Authenticate an IMAP, POP or SMTP connection using OAuth, for the
//!   service principal and `Add-MailboxPermission` that app-only IMAP, POP and
//!   SMTP access needs:
//!   <https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth>

use uuid::Uuid;

use crate::requests::{PermissionApi, PermissionType, Scope};

/// The request values the plan is built from.
pub struct PlanInput<'a> {
    pub reference: &'a str,
    pub application_name: &'a str,
    pub sending_address: &'a str,
    /// The application (client) ID, once IST has recorded it at approval.
    pub client_id: Option<Uuid>,
    pub scopes: &'a [Scope],
}

/// One step: what it does, and the command to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub title: String,
    pub command: String,
    pub explanation: String,
}

/// Quotes a value as a PowerShell single-quoted string literal.
///
/// PowerShell reads U+2018, U+2019, U+201A and U+201B as single quotes too,
/// so each of them is doubled like `'`. Control characters, and the Unicode
/// line and paragraph separators, are removed so that the literal stays on
/// one line. `$` and backtick are literal inside single quotes.
pub fn ps_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for character in value.chars() {
        if character.is_control() || matches!(character, '\u{2028}' | '\u{2029}') {
            continue;
        }
        if matches!(character, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            quoted.push(character);
        }
        quoted.push(character);
    }
    quoted.push('\'');
    quoted
}

/// The Exchange Online mechanism that limits an application mail permission to some mailboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MailboxLimit {
    /// RBAC for Applications, through this application role.
    ApplicationRole(&'static str),
    /// Mailbox permissions, for the IMAP, POP and SMTP permissions that RBAC
    /// for Applications does not cover.
    MailboxPermission,
}

/// An application permission that reaches mailbox contents.
#[derive(Debug)]
struct MailPermission {
    name: &'static str,
    limit: MailboxLimit,
}

static GRAPH_MAIL_PERMISSIONS: [MailPermission; 11] = [
    MailPermission { name: "Mail.Send", limit: MailboxLimit::ApplicationRole("Application Mail.Send") },
    MailPermission { name: "Mail.ReadWrite", limit: MailboxLimit::ApplicationRole("Application Mail.ReadWrite") },
    MailPermission { name: "Mail.Read", limit: MailboxLimit::ApplicationRole("Application Mail.Read") },
    MailPermission { name: "Mail.ReadBasic", limit: MailboxLimit::ApplicationRole("Application Mail.ReadBasic") },
    MailPermission { name: "Mail.ReadBasic.All", limit: MailboxLimit::ApplicationRole("Application Mail.ReadBasic") },
    MailPermission { name: "Calendars.Read", limit: MailboxLimit::ApplicationRole("Application Calendars.Read") },
    MailPermission {
        name: "Calendars.ReadWrite",
        limit: MailboxLimit::ApplicationRole("Application Calendars.ReadWrite"),
    },
    MailPermission { name: "Contacts.Read", limit: MailboxLimit::ApplicationRole("Application Contacts.Read") },
    MailPermission {
        name: "Contacts.ReadWrite",
        limit: MailboxLimit::ApplicationRole("Application Contacts.ReadWrite"),
    },
    MailPermission {
        name: "MailboxSettings.Read",
        limit: MailboxLimit::ApplicationRole("Application MailboxSettings.Read"),
    },
    MailPermission {
        name: "MailboxSettings.ReadWrite",
        limit: MailboxLimit::ApplicationRole("Application MailboxSettings.ReadWrite"),
    },
];

static EXCHANGE_MAIL_PERMISSIONS: [MailPermission; 4] = [
    MailPermission { name: "full_access_as_app", limit: MailboxLimit::ApplicationRole("Application EWS.AccessAsApp") },
    MailPermission { name: "SMTP.SendAsApp", limit: MailboxLimit::MailboxPermission },
    MailPermission { name: "IMAP.AccessAsApp", limit: MailboxLimit::MailboxPermission },
    MailPermission { name: "POP.AccessAsApp", limit: MailboxLimit::MailboxPermission },
];

/// Finds the application mail permission a requested scope names, ignoring case.
fn mail_permission(scope: &Scope) -> Option<&'static MailPermission> {
    if scope.permission_type != PermissionType::Application {
        return None;
    }
    let known: &'static [MailPermission] = match scope.api {
        PermissionApi::MicrosoftGraph => &GRAPH_MAIL_PERMISSIONS,
        PermissionApi::ExchangeOnline => &EXCHANGE_MAIL_PERMISSIONS,
        PermissionApi::Other => return None,
    };
    let name = scope.name.trim();
    known.iter().find(|permission| permission.name.eq_ignore_ascii_case(name))
}

/// An application role to assign, with the requested permissions it covers.
struct RoleAssignment {
    role: &'static str,
    permissions: Vec<&'static str>,
}

const CLIENT_ID_PLACEHOLDER: &str = "<application (client) ID from Entra ID>";
const OBJECT_ID_PLACEHOLDER: &str = "<object ID of the enterprise application in Entra ID>";
const MAILBOX_PLACEHOLDER: &str = "<sending mailbox address>";
const OTHER_MAILBOX_PLACEHOLDER: &str = "<address of another mailbox>";

/// Builds the steps, or returns None when the request contains no application
/// mail permission.
///
/// The first step defines `$AppId`, `$ObjectId`, `$Mailbox` and `$ScopeName`,
/// and the later commands use those variables. Every value taken from the
/// request goes through [`ps_quote`].
pub fn least_privilege_plan(input: &PlanInput<'_>) -> Option<Vec<PlanStep>> {
    let mut assignments: Vec<RoleAssignment> = Vec::new();
    let mut protocol_permissions: Vec<&'static str> = Vec::new();
    for permission in input.scopes.iter().filter_map(mail_permission) {
        match permission.limit {
            MailboxLimit::ApplicationRole(role) => {
                match assignments.iter_mut().find(|assignment| assignment.role == role) {
                    Some(assignment) if assignment.permissions.contains(&permission.name) => {}
                    Some(assignment) => assignment.permissions.push(permission.name),
                    None => assignments.push(RoleAssignment { role, permissions: vec![permission.name] }),
                }
            }
            MailboxLimit::MailboxPermission => {
                if !protocol_permissions.contains(&permission.name) {
                    protocol_permissions.push(permission.name);
                }
            }
        }
    }
    if assignments.is_empty() && protocol_permissions.is_empty() {
        return None;
    }

    let mut steps = vec![values_step(input), register_step(input)];

    // A management scope only limits role assignments, so it is created only
    // when there is an application role to assign.
    if !assignments.is_empty() {
        steps.push(scope_step(input));
        steps.extend(assignments.iter().map(role_assignment_step));
    }
    if !protocol_permissions.is_empty() {
        steps.push(mailbox_permission_step(&protocol_permissions));
    }
    if !assignments.is_empty() {
        steps.push(entra_consent_step(&assignments));
    }
    steps.push(check_step(!assignments.is_empty(), !protocol_permissions.is_empty()));
    Some(steps)
}

fn sending_address(input: &PlanInput<'_>) -> String {
    let address = input.sending_address.trim();
    if address.is_empty() { MAILBOX_PLACEHOLDER.to_owned() } else { address.to_owned() }
}

fn values_step(input: &PlanInput<'_>) -> PlanStep {
    let client_id = match input.client_id {
        Some(client_id) => client_id.to_string(),
        None => CLIENT_ID_PLACEHOLDER.to_owned(),
    };
    let scope_name = format!("{} sending mailbox", input.reference.trim());
    let command = [
        format!("$AppId = {}", ps_quote(&client_id)),
        format!("$ObjectId = {}", ps_quote(OBJECT_ID_PLACEHOLDER)),
        format!("$Mailbox = {}", ps_quote(&sending_address(input))),
        format!("$ScopeName = {}", ps_quote(scope_name.trim())),
    ]
    .join("\n");
    PlanStep {
        title: "Set the values this plan uses".to_owned(),
        command,
        explanation: "Defines the values that the later commands use, so replace every value in angle brackets \
            in this plan before you run it. Take the object ID from the application's page under Enterprise \
            applications in Entra ID, because the object ID under App registrations belongs to a different object."
            .to_owned(),
    }
}

fn register_step(input: &PlanInput<'_>) -> PlanStep {
    let mut command = "New-ServicePrincipal -AppId $AppId -ObjectId $ObjectId".to_owned();
    let application_name = input.application_name.trim();
    if !application_name.is_empty() {
        command.push_str(" -DisplayName ");
        command.push_str(&ps_quote(application_name));
    }
    PlanStep {
        title: "Register the service principal in Exchange Online".to_owned(),
        command,
        explanation: "Creates the Exchange Online reference to the application's service principal in Entra ID. \
            Exchange assigns roles and mailbox permissions only to a service principal registered this way."
            .to_owned(),
    }
}

fn scope_step(input: &PlanInput<'_>) -> PlanStep {
    // OPATH escapes an apostrophe inside a quoted value by doubling it, as
    // in 'o''brien@example.edu'. The whole filter is then one PowerShell
    // single-quoted literal, so ps_quote doubles every quote once more.
    let address = sending_address(input).replace('\'', "''");
    let filter = format!("PrimarySmtpAddress -eq '{address}'");
    PlanStep {
        title: "Create a management scope for the sending mailbox".to_owned(),
        command: format!("New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter {}", ps_quote(&filter)),
        explanation: "Creates a management scope whose filter matches only the sending mailbox. \
            The role assignments that follow reach only the mailboxes this scope matches."
            .to_owned(),
    }
}

fn role_assignment_step(assignment: &RoleAssignment) -> PlanStep {
    PlanStep {
        title: format!("Assign the {} role limited to that scope", assignment.role),
        command: format!(
            "New-ManagementRoleAssignment -App $ObjectId -Role {} -CustomResourceScope $ScopeName",
            ps_quote(assignment.role)
        ),
        explanation: format!(
            "Grants the application {}, but only on the mailboxes that the management scope matches.",
            join_names(&assignment.permissions)
        ),
    }
}

fn mailbox_permission_step(protocol_permissions: &[&str]) -> PlanStep {
    PlanStep {
        title: "Give the application access to the sending mailbox only".to_owned(),
        command: "Add-MailboxPermission -Identity $Mailbox -User $ObjectId -AccessRights FullAccess".to_owned(),
        explanation: format!(
            "RBAC for Applications does not cover {}. For these Exchange Online protocol permissions Exchange \
            checks mailbox permissions, so the application can reach only the mailboxes it was given, which here is \
            the sending mailbox.",
            join_names(protocol_permissions)
        ),
    }
}

fn entra_consent_step(assignments: &[RoleAssignment]) -> PlanStep {
    let permissions: Vec<&str> =
        assignments.iter().flat_map(|assignment| assignment.permissions.iter().copied()).collect();
    PlanStep {
        title: "Remove the tenant-wide grant in Entra ID".to_owned(),
        command: String::new(),
        explanation: format!(
            "RBAC for Applications replaces admin consent in Entra ID for {names}. If the tenant-wide application \
            permission is still granted in Entra ID beside the scoped role, the application can still reach every \
            mailbox, so do not grant admin consent for {names} in Entra ID, and remove it if it was granted. \
            Microsoft also advises against creating new application access policies, which RBAC for Applications \
            replaces.",
            names = join_names(&permissions)
        ),
    }
}

fn check_step(has_role_assignments: bool, has_mailbox_permission: bool) -> PlanStep {
    let mut commands = Vec::new();
    let mut explanations = Vec::new();
    if has_role_assignments {
        commands.push("Test-ServicePrincipalAuthorization -Identity $ObjectId -Resource $Mailbox".to_owned());
        commands.push(format!(
            "Test-ServicePrincipalAuthorization -Identity $ObjectId -Resource {}",
            ps_quote(OTHER_MAILBOX_PLACEHOLDER)
        ));
        explanations.push(
            "The InScope column of the first command should be True for the sending mailbox. \
            The second command runs the same test against another mailbox, and its InScope column should be False.",
        );
    }
    if has_mailbox_permission {
        commands.push("Get-MailboxPermission -Identity $Mailbox".to_owned());
        explanations.push(
            "The mailbox permission list should contain a FullAccess entry for the application's service principal.",
        );
    }
    PlanStep { title: "Check the result".to_owned(), command: commands.join("\n"), explanation: explanations.join(" ") }
}

/// Joins names as English prose: "A", "A and B", "A, B and C".
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first @ .., last] => format!("{} and {}", first.join(", "), last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = "IST-AR-2026-000123";
    const ADDRESS: &str = "payroll@example.edu";

    fn scope(api: PermissionApi, name: &str, permission_type: PermissionType) -> Scope {
        Scope { api, api_name: None, name: name.to_owned(), permission_type, unlisted: false, justification: None }
    }

    fn graph_application(name: &str) -> Scope {
        scope(PermissionApi::MicrosoftGraph, name, PermissionType::Application)
    }

    fn plan_for(scopes: &[Scope]) -> Option<Vec<PlanStep>> {
        least_privilege_plan(&PlanInput {
            reference: REFERENCE,
            application_name: "Payroll notices",
            sending_address: ADDRESS,
            client_id: None,
            scopes,
        })
    }

    fn all_commands(steps: &[PlanStep]) -> String {
        steps.iter().map(|step| step.command.as_str()).collect::<Vec<_>>().join("\n")
    }

    fn has_title(steps: &[PlanStep], title: &str) -> bool {
        steps.iter().any(|step| step.title == title)
    }

    #[test]
    fn apostrophe_in_address_is_escaped_twice() {
        let scopes = [graph_application("Mail.Send")];
        let input = PlanInput {
            reference: REFERENCE,
            application_name: "Bookings",
            sending_address: "o'brien@uwaterloo.ca",
            client_id: None,
            scopes: &scopes,
        };
        let steps = least_privilege_plan(&input).expect("a plan");
        let scope = steps.iter().find(|step| step.command.starts_with("New-ManagementScope")).expect("a scope step");
        let expected = "-RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''o''''brien@uwaterloo.ca'''";
        assert!(scope.command.ends_with(expected), "{}", scope.command);
    }

    #[test]
    fn ps_quote_wraps_plain_text() {
        assert_eq!(ps_quote("Payroll notices"), "'Payroll notices'");
    }

    #[test]
    fn ps_quote_doubles_ascii_quote() {
        assert_eq!(ps_quote("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn ps_quote_doubles_unicode_quotes() {
        assert_eq!(ps_quote("a\u{2018}b\u{2019}c"), "'a\u{2018}\u{2018}b\u{2019}\u{2019}c'");
        assert_eq!(ps_quote("a\u{201A}b\u{201B}c"), "'a\u{201A}\u{201A}b\u{201B}\u{201B}c'");
    }

    #[test]
    fn ps_quote_keeps_dollar_and_backtick() {
        assert_eq!(ps_quote("$env:PATH"), "'$env:PATH'");
        assert_eq!(ps_quote("a`nb"), "'a`nb'");
    }

    #[test]
    fn ps_quote_removes_line_breaks() {
        assert_eq!(ps_quote("first\nsecond"), "'firstsecond'");
        assert_eq!(ps_quote("first\r\n\tsecond\u{2028}"), "'firstsecond'");
    }

    #[test]
    fn no_plan_for_delegated_mail_send() {
        let scopes = [scope(PermissionApi::MicrosoftGraph, "Mail.Send", PermissionType::Delegated)];
        assert_eq!(plan_for(&scopes), None);
    }

    #[test]
    fn no_plan_for_application_user_read_all() {
        assert_eq!(plan_for(&[graph_application("User.Read.All")]), None);
    }

    #[test]
    fn no_plan_for_mail_name_on_other_api() {
        let scopes = [scope(PermissionApi::Other, "Mail.Send", PermissionType::Application)];
        assert_eq!(plan_for(&scopes), None);
    }

    #[test]
    fn mail_send_plan_scopes_sending_mailbox() {
        let steps = plan_for(&[graph_application("Mail.Send")]).expect("plan for application Mail.Send");
        let commands = all_commands(&steps);

        assert!(commands.contains("$Mailbox = 'payroll@example.edu'"), "{commands}");
        assert!(commands.contains("$ScopeName = 'IST-AR-2026-000123 sending mailbox'"), "{commands}");
        assert!(
            commands.contains(
                "New-ManagementScope -Name $ScopeName \
                 -RecipientRestrictionFilter 'PrimarySmtpAddress -eq ''payroll@example.edu'''"
            ),
            "{commands}"
        );
        assert!(
            commands.contains(
                "New-ManagementRoleAssignment -App $ObjectId -Role 'Application Mail.Send' \
                 -CustomResourceScope $ScopeName"
            ),
            "{commands}"
        );
        assert!(
            commands.contains("Test-ServicePrincipalAuthorization -Identity $ObjectId -Resource $Mailbox"),
            "{commands}"
        );
        assert!(has_title(&steps, "Create a management scope for the sending mailbox"));
        assert!(has_title(&steps, "Remove the tenant-wide grant in Entra ID"));
        assert_eq!(steps.last().map(|step| step.title.as_str()), Some("Check the result"));
    }

    #[test]
    fn mail_send_plan_has_no_mailbox_permission() {
        let steps = plan_for(&[graph_application("Mail.Send")]).expect("plan for application Mail.Send");
        assert!(!all_commands(&steps).contains("Add-MailboxPermission"));
    }

    #[test]
    fn permission_name_matches_ignoring_case() {
        assert!(plan_for(&[graph_application("mail.send")]).is_some());
    }

    #[test]
    fn client_id_used_when_given() {
        let client_id = Uuid::from_u128(0x71487acd_ec93_476d_bd0e_6c8b31831053);
        let scopes = [graph_application("Mail.Send")];
        let steps = least_privilege_plan(&PlanInput {
            reference: REFERENCE,
            application_name: "Payroll notices",
            sending_address: ADDRESS,
            client_id: Some(client_id),
            scopes: &scopes,
        })
        .expect("plan for application Mail.Send");
        let commands = all_commands(&steps);

        assert!(commands.contains("$AppId = '71487acd-ec93-476d-bd0e-6c8b31831053'"), "{commands}");
        assert!(!commands.contains(CLIENT_ID_PLACEHOLDER), "{commands}");
    }

    #[test]
    fn placeholder_when_client_id_missing() {
        let steps = plan_for(&[graph_application("Mail.Send")]).expect("plan for application Mail.Send");
        let commands = all_commands(&steps);
        assert!(commands.contains("$AppId = '<application (client) ID from Entra ID>'"), "{commands}");
    }

    #[test]
    fn application_name_quote_is_doubled() {
        let scopes = [graph_application("Mail.Send")];
        let steps = least_privilege_plan(&PlanInput {
            reference: REFERENCE,
            application_name: "O'Brien's app",
            sending_address: ADDRESS,
            client_id: None,
            scopes: &scopes,
        })
        .expect("plan for application Mail.Send");
        let commands = all_commands(&steps);

        assert!(commands.contains("-DisplayName 'O''Brien''s app'"), "{commands}");
    }

    #[test]
    fn application_name_cannot_add_a_command() {
        let scopes = [graph_application("Mail.Send")];
        let steps = least_privilege_plan(&PlanInput {
            reference: REFERENCE,
            application_name: "App\nRemove-Mailbox -Identity someone",
            sending_address: ADDRESS,
            client_id: None,
            scopes: &scopes,
        })
        .expect("plan for application Mail.Send");
        let commands = all_commands(&steps);

        assert!(commands.lines().all(|line| !line.starts_with("Remove-Mailbox")), "{commands}");
    }

    #[test]
    fn smtp_send_as_app_gets_mailbox_permission() {
        let scopes = [scope(PermissionApi::ExchangeOnline, "SMTP.SendAsApp", PermissionType::Application)];
        let steps = plan_for(&scopes).expect("plan for SMTP.SendAsApp");
        let commands = all_commands(&steps);

        assert!(
            commands.contains("Add-MailboxPermission -Identity $Mailbox -User $ObjectId -AccessRights FullAccess"),
            "{commands}"
        );
        assert!(!commands.contains("New-ManagementRoleAssignment"), "{commands}");
        assert!(!has_title(&steps, "Remove the tenant-wide grant in Entra ID"));
    }

    #[test]
    fn read_basic_variants_share_one_role() {
        let steps = plan_for(&[graph_application("Mail.ReadBasic"), graph_application("Mail.ReadBasic.All")])
            .expect("plan for application Mail.ReadBasic");
        let commands = all_commands(&steps);

        assert_eq!(commands.matches("-Role 'Application Mail.ReadBasic'").count(), 1, "{commands}");
    }

    #[test]
    fn full_access_as_app_gets_ews_role() {
        let scopes = [scope(PermissionApi::ExchangeOnline, "full_access_as_app", PermissionType::Application)];
        let steps = plan_for(&scopes).expect("plan for full_access_as_app");
        let commands = all_commands(&steps);

        assert!(commands.contains("-Role 'Application EWS.AccessAsApp'"), "{commands}");
        assert!(has_title(&steps, "Remove the tenant-wide grant in Entra ID"));
    }

    #[test]
    fn join_names_reads_as_prose() {
        assert_eq!(join_names(&["A"]), "A");
        assert_eq!(join_names(&["A", "B"]), "A and B");
        assert_eq!(join_names(&["A", "B", "C"]), "A, B and C");
    }
}
