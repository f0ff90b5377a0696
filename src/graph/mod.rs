//! The Microsoft Graph permission catalogue: Microsoft's published
//! permissions, compiled in from `data/graph-permissions.csv` (source, licence
//! and known gaps in `data/README-graph-permissions.md`), and name lookup
//! that tolerates case and spacing and suggests close names.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::requests::PermissionType;

pub mod risk;

const CATALOGUE_CSV: &str = include_str!("../../data/graph-permissions.csv");

/// Office 365 Exchange Online permissions that mail applications ask for
/// and that are not Graph permissions. SMTP.SendAsApp, IMAP.AccessAsApp and
/// POP.AccessAsApp are spelled as Microsoft's page "Authenticate an IMAP,
/// POP or SMTP connection using OAuth" spells them
/// (learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
/// NOTE: full_access_as_app, EWS.AccessAsUser.All and Exchange.ManageAsApp
/// follow vendors' set-up guides for the Entra portal, not a Microsoft page.
/// The list carries no permission ids, so its id column is empty.
const EXCHANGE_ONLINE_CSV: &str = include_str!("../../data/exchange-online-permissions.csv");

/// Maximum number of suggestions for a name that is not in the catalogue.
pub const MAX_SUGGESTIONS: usize = 3;

/// One published permission of one type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Permission {
    /// The claim value as Entra ID spells it, such as `Mail.Send`.
    pub name: String,
    #[serde(rename = "type")]
    pub permission_type: PermissionType,
    pub id: String,
    pub admin_consent_required: bool,
    pub display_name: String,
    pub description: String,
}

/// The parsed catalogue, indexed by lowercase name.
pub struct Catalogue {
    permissions: Vec<Permission>,
    by_name: HashMap<String, Vec<usize>>,
}

/// The rank of a search result. A name that starts with the query comes
/// first, then a name that contains its words, then a display name that
/// does, then a description only. Shorter names come first within each.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchRank {
    tier: u8,
    name_length: usize,
    name: String,
}

impl SearchRank {
    /// Ranks a permission for a query, or returns None when it does not match.
    pub fn of(permission: &Permission, query: &str) -> Option<SearchRank> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return None;
        }
        let name = permission.name.to_lowercase();
        let display_name = permission.display_name.to_lowercase();
        let description = permission.description.to_lowercase();
        let all_in = |text: &str| words.iter().all(|word| text.contains(word.as_str()));
        let tier = if name.starts_with(&query.trim().to_lowercase()) {
            0
        } else if all_in(&name) {
            1
        } else if all_in(&format!("{name} {display_name}")) {
            2
        } else if all_in(&format!("{name} {display_name} {description}")) {
            3
        } else {
            return None;
        };
        Some(SearchRank { tier, name_length: name.len(), name })
    }
}

/// Removes the resource address that vendors often write before a scope,
/// as in https://graph.microsoft.com/Mail.Send or
/// https://outlook.office365.com/SMTP.SendAsApp, so the name itself is looked up.
pub fn without_resource(name: &str) -> &str {
    const RESOURCES: [&str; 3] =
        ["https://graph.microsoft.com/", "https://outlook.office365.com/", "https://outlook.office.com/"];
    RESOURCES
        .iter()
        .find_map(|resource| {
            name.get(..resource.len())
                .filter(|start| start.eq_ignore_ascii_case(resource))
                .map(|_| &name[resource.len()..])
        })
        .unwrap_or(name)
}

/// Result of comparing a typed name and type with the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// The permission exists with this type; use its spelling.
    Found(&'a Permission),
    /// The name exists, but only with the other type.
    WrongType { name: &'a str, available: PermissionType },
    /// No permission has this name; the closest names, best first.
    Unknown { suggestions: Vec<&'a str> },
}

#[derive(Debug, thiserror::Error)]
#[error("row {row}: {message}")]
pub struct CatalogueError {
    pub row: usize,
    pub message: String,
}

/// Letters and digits only, lowercase: "mail send", "Mail.send" and
/// "MAIL_SEND" all become "mailsend".
fn folded(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|ch| ch.to_ascii_lowercase()).collect()
}

/// Levenshtein distance between two ASCII-folded names.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1; right.len() + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[right.len()]
}

impl Catalogue {
    /// Parses a catalogue CSV with the columns name, type, id,
    /// admin_consent_required, display_name and description.
    pub fn parse(csv_text: &str) -> Result<Catalogue, CatalogueError> {
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let mut permissions: Vec<Permission> = Vec::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, record) in reader.deserialize::<Permission>().enumerate() {
            // Row 1 is the header, so data rows start at 2.
            let row = index + 2;
            let permission = record.map_err(|err| CatalogueError { row, message: err.to_string() })?;
            if permission.name.trim().is_empty() || permission.name.chars().any(char::is_whitespace) {
                return Err(CatalogueError { row, message: format!("invalid permission name {:?}", permission.name) });
            }
            let key = permission.name.to_lowercase();
            let rows = by_name.entry(key).or_default();
            if rows.iter().any(|&other| permissions[other].permission_type == permission.permission_type) {
                return Err(CatalogueError {
                    row,
                    message: format!("{} ({}) is listed twice", permission.name, permission.permission_type.as_str()),
                });
            }
            rows.push(permissions.len());
            permissions.push(permission);
        }
        Ok(Catalogue { permissions, by_name })
    }

    /// Returns the catalogue compiled into the binary.
    pub fn shipped() -> &'static Catalogue {
        static SHIPPED: LazyLock<Catalogue> =
            LazyLock::new(|| Catalogue::parse(CATALOGUE_CSV).expect("the shipped catalogue is valid"));
        &SHIPPED
    }

    /// Returns the built-in list of Office 365 Exchange Online permissions.
    pub fn exchange_online() -> &'static Catalogue {
        static EXCHANGE: LazyLock<Catalogue> =
            LazyLock::new(|| Catalogue::parse(EXCHANGE_ONLINE_CSV).expect("the Exchange Online list is valid"));
        &EXCHANGE
    }

    /// Finds permissions whose name, display name or description contains
    /// every word of `query`, ignoring case, best matches first (see [`SearchRank`]).
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Permission> {
        let mut found: Vec<(SearchRank, &Permission)> = self
            .permissions
            .iter()
            .filter_map(|permission| SearchRank::of(permission, query).map(|rank| (rank, permission)))
            .collect();
        found.sort_by(|left, right| left.0.cmp(&right.0));
        found.into_iter().take(limit).map(|(_, permission)| permission).collect()
    }

    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }

    /// Finds every type a name exists with, matched without regard to case.
    pub fn find(&self, name: &str) -> Vec<&Permission> {
        self.by_name
            .get(&name.trim().to_lowercase())
            .map(|rows| rows.iter().map(|&row| &self.permissions[row]).collect())
            .unwrap_or_default()
    }

    /// Compares a typed name and type with the catalogue.
    pub fn resolve(&self, name: &str, permission_type: PermissionType) -> Resolution<'_> {
        let found = self.find(name);
        if let Some(permission) = found.iter().find(|permission| permission.permission_type == permission_type) {
            return Resolution::Found(permission);
        }
        if let Some(other) = found.first() {
            return Resolution::WrongType { name: &other.name, available: other.permission_type };
        }
        Resolution::Unknown { suggestions: self.suggest(name) }
    }

    /// Up to [`MAX_SUGGESTIONS`] names close to `name`: names equal once
    /// case, spaces and punctuation are ignored come first, then the nearest
    /// by edit distance within a third of the name's length.
    pub fn suggest(&self, name: &str) -> Vec<&str> {
        let wanted = folded(name);
        if wanted.is_empty() {
            return Vec::new();
        }
        let limit = (wanted.len() / 3).max(1);
        let mut scored: Vec<(usize, &str)> = Vec::new();
        for permission in &self.permissions {
            if scored.iter().any(|(_, seen)| *seen == permission.name) {
                continue;
            }
            let distance = edit_distance(&wanted, &folded(&permission.name));
            if distance <= limit {
                scored.push((distance, &permission.name));
            }
        }
        scored.sort_by(|left, right| left.0.cmp(&right.0).then_with(|| left.1.cmp(right.1)));
        scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, name)| name).collect()
    }
}

/// Differences between the shipped catalogue and a candidate replacement.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CatalogueChanges {
    /// (name, type) pairs only the candidate has.
    pub added: Vec<(String, PermissionType)>,
    /// (name, type) pairs only the shipped catalogue has.
    pub removed: Vec<(String, PermissionType)>,
    /// Pairs whose id, admin-consent flag, display name or description differ.
    pub changed: Vec<(String, PermissionType)>,
}

impl Catalogue {
    fn key_map(&self) -> HashMap<(String, PermissionType), &Permission> {
        self.permissions
            .iter()
            .map(|permission| ((permission.name.to_lowercase(), permission.permission_type), permission))
            .collect()
    }

    /// Counts of rows by type: (delegated, application).
    pub fn counts(&self) -> (usize, usize) {
        let delegated = self
            .permissions
            .iter()
            .filter(|permission| permission.permission_type == PermissionType::Delegated)
            .count();
        (delegated, self.permissions.len() - delegated)
    }

    /// Lists what `candidate` adds, removes and changes relative to `self`, sorted by name.
    pub fn compare(&self, candidate: &Catalogue) -> CatalogueChanges {
        let current = self.key_map();
        let next = candidate.key_map();
        let mut changes = CatalogueChanges::default();
        for (key, permission) in &next {
            match current.get(key) {
                None => changes.added.push((permission.name.clone(), permission.permission_type)),
                Some(old) if *old != *permission => {
                    changes.changed.push((permission.name.clone(), permission.permission_type))
                }
                Some(_) => {}
            }
        }
        for (key, permission) in &current {
            if !next.contains_key(key) {
                changes.removed.push((permission.name.clone(), permission.permission_type));
            }
        }
        for list in [&mut changes.added, &mut changes.removed, &mut changes.changed] {
            list.sort_by(|left, right| {
                left.0.to_lowercase().cmp(&right.0.to_lowercase()).then(left.1.as_str().cmp(right.1.as_str()))
            });
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static Catalogue {
        Catalogue::shipped()
    }

    #[test]
    fn shipped_catalogue_has_every_row() {
        assert_eq!(catalogue().len(), 1437);
    }

    #[test]
    fn lookup_ignores_case() {
        let found = catalogue().resolve("mail.send", PermissionType::Application);
        assert!(matches!(found, Resolution::Found(permission) if permission.name == "Mail.Send"), "{found:?}");
    }

    #[test]
    fn spelling_variants_suggest_mail_send() {
        for typed in ["Mail.send", "mail send", "MAIL_SEND", "Mail.Sned"] {
            let suggestions = catalogue().suggest(typed);
            assert_eq!(suggestions.first(), Some(&"Mail.Send"), "{typed}: {suggestions:?}");
        }
    }

    #[test]
    fn unknown_name_gets_at_most_three_suggestions() {
        let resolution = catalogue().resolve("Mail.Snd.All", PermissionType::Application);
        match resolution {
            Resolution::Unknown { suggestions } => assert!(suggestions.len() <= MAX_SUGGESTIONS, "{suggestions:?}"),
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[test]
    fn nonsense_gets_no_suggestions() {
        assert!(catalogue().suggest("zzzzqqqq").is_empty());
    }

    #[test]
    fn delegated_only_permission_is_wrong_type_as_application() {
        // Delegated only: the catalogue has no application row for it.
        let only_delegated = catalogue()
            .permissions
            .iter()
            .find(|permission| {
                catalogue().find(&permission.name).len() == 1 && permission.permission_type == PermissionType::Delegated
            })
            .expect("some permission is delegated only");
        let resolution = catalogue().resolve(&only_delegated.name, PermissionType::Application);
        assert_eq!(
            resolution,
            Resolution::WrongType { name: &only_delegated.name, available: PermissionType::Delegated }
        );
    }

    #[test]
    fn application_rows_need_admin_consent() {
        assert!(
            catalogue()
                .permissions
                .iter()
                .filter(|permission| permission.permission_type == PermissionType::Application)
                .all(|permission| permission.admin_consent_required)
        );
    }

    #[test]
    fn duplicate_rows_are_rejected() {
        let text = "name,type,id,admin_consent_required,display_name,description\n\
                    A.Read,delegated,1,false,Read,Reads\n\
                    a.read,delegated,2,false,Read,Reads\n";
        let error = Catalogue::parse(text).err().expect("a duplicate is an error");
        assert_eq!(error.row, 3);
    }

    #[test]
    fn compare_lists_added_removed_and_changed() {
        let header = "name,type,id,admin_consent_required,display_name,description\n";
        let old = Catalogue::parse(&format!(
            "{header}A.Read,delegated,1,false,Read,Reads\nB.Read,delegated,2,false,Read,Reads\n"
        ))
        .unwrap();
        let new = Catalogue::parse(&format!(
            "{header}A.Read,delegated,1,true,Read,Reads\nC.Read,application,3,true,Read,Reads\n"
        ))
        .unwrap();
        let changes = old.compare(&new);
        assert_eq!(changes.added, vec![("C.Read".to_owned(), PermissionType::Application)]);
        assert_eq!(changes.removed, vec![("B.Read".to_owned(), PermissionType::Delegated)]);
        assert_eq!(changes.changed, vec![("A.Read".to_owned(), PermissionType::Delegated)]);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("mailsend", "mailsned"), 2);
        assert_eq!(edit_distance("mailsend", "mailsends"), 1);
    }
}
