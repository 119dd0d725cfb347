//! The message logged once the server is ready: a curl command that sends an SMS, made for
//! the org actually loaded, so that it works as pasted.

use std::net::SocketAddr;

use crate::actions::sms;
use crate::domain::SalesforceId;
use crate::org::Org;

/// The environment variable the logged command reads the API key from: the key itself never
/// reaches the log.
pub const API_KEY_VARIABLE: &str = "FASTCALL_API_KEY";

/// Whom the logged command sends as, and how it says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// No header: the org's default user sends.
    DefaultUser,
    /// `X-Fastcall-User-Id`: the org has no default user who can send.
    UserHeader(SalesforceId),
    /// `Authorization: Bearer $FASTCALL_API_KEY`, with this user's key: the org has keys.
    ApiKey(SalesforceId),
}

impl Sender {
    /// The best sender the org allows: with keys, the first key whose user can send; without,
    /// the default user when it can send, else the first user who can.
    pub fn for_org(org: &Org) -> Self {
        let keys = &org.document().api_keys;
        if let Some(first) = keys.first() {
            let usable = keys.iter().find(|k| sms::can_send(org, k.user_id));
            return Self::ApiKey(usable.unwrap_or(first).user_id);
        }
        let default = org.settings().default_user_id;
        if default.is_some_and(|user| sms::can_send(org, user)) {
            return Self::DefaultUser;
        }
        let users = &org.document().users;
        match users.iter().find(|u| sms::can_send(org, u.id)) {
            Some(user) => Self::UserHeader(user.id),
            None if default.is_some() => Self::DefaultUser,
            // Nobody can send: a Fastcall user at least gets past who is calling.
            None => users
                .iter()
                .find(|u| u.fastcall_user)
                .map_or(Self::DefaultUser, |u| Self::UserHeader(u.id)),
        }
    }
}

/// `fastcall-emulator ready on http://ADDR; ...` and the curl command, on a line of its own.
pub fn ready_message(addr: SocketAddr, org: &Org) -> String {
    let sender = Sender::for_org(org);
    let mut curl = format!(
        "curl -s http://{addr}/actions/SubscriberSMSInvocable -H 'Content-Type: application/json'"
    );
    let intro = match sender {
        Sender::DefaultUser => "send an SMS with:".to_owned(),
        Sender::UserHeader(user) => {
            curl.push_str(&format!(" -H 'X-Fastcall-User-Id: {user}'"));
            format!("send an SMS as {} with:", describe(org, user))
        }
        Sender::ApiKey(user) => {
            curl.push_str(&format!(
                " -H \"Authorization: Bearer ${API_KEY_VARIABLE}\""
            ));
            format!(
                "the org has API keys: with {API_KEY_VARIABLE} set to the key of {}, send an SMS with:",
                describe(org, user)
            )
        }
    };
    curl.push_str(
        r#" -d '{"toPhone": "+14155550123", "bodyText": "Hello from fastcall-emulator"}'"#,
    );
    format!("fastcall-emulator ready on http://{addr}; {intro}\n\n  {curl}\n")
}

/// `Ada Lovelace (005...)`, or the bare Id of a user the org does not declare.
fn describe(org: &Org, user: SalesforceId) -> String {
    match org.user(user) {
        Some(found) => format!("{} ({user})", found.name),
        None => user.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{OrgDocument, OrgFormat};

    const ADDR: &str = "127.0.0.1:8080";
    const ADA: &str = "005Dn0000001AdaIAE";
    const GRACE: &str = "005Dn0000002GrcIAE";
    const KATHERINE: &str = "005Dn0000003KatIAE";
    const LINUS: &str = "005Dn0000004LinIAE";

    fn load(yaml: &str) -> Org {
        Org::new(OrgDocument::parse(yaml.as_bytes(), OrgFormat::Yaml).expect("parses"))
            .expect("valid")
    }

    fn id(id: &str) -> SalesforceId {
        SalesforceId::parse(id).unwrap()
    }

    /// The curl command of the message, checked to stand on a line of its own.
    fn curl(message: &str) -> &str {
        let (intro, rest) = message
            .split_once("\n\n  ")
            .expect("a command after a blank line");
        assert!(intro.starts_with("fastcall-emulator ready on http://127.0.0.1:8080; "));
        let command = rest.strip_suffix('\n').expect("a final newline");
        assert!(!command.contains('\n'), "{command}");
        command
    }

    /// Linus is no Fastcall user; Grace has no number; Katherine sends through her group.
    const USERS: &str = r#"
users:
  - {id: 005Dn0000004LinIAE, name: Linus Integration, fastcallUser: false}
  - {id: 005Dn0000002GrcIAE, name: Grace Hopper}
  - {id: 005Dn0000003KatIAE, name: Katherine Johnson, groupIds: [00GDn0000001SupMAE]}
  - {id: 005Dn0000001AdaIAE, name: Ada Lovelace}
groups:
  - {id: 00GDn0000001SupMAE, name: Support Team}
phoneNumbers:
  - {id: a0PDn0000001AdaMAE, number: "+14155550100", sms: true, outboundSms: true, assignment: user, userIds: [005Dn0000001AdaIAE]}
  - {id: a0PDn0000002SupMAE, number: "+14155550101", sms: true, outboundSms: true, assignment: group, groupIds: [00GDn0000001SupMAE]}
  - {id: a0PDn0000005NosMAE, number: "+14155550105", sms: true, outboundSms: false, assignment: user, userIds: [005Dn0000002GrcIAE]}
"#;

    #[test]
    fn the_demo_org_line_sends_as_the_default_user_without_headers() {
        let message = ready_message(ADDR.parse().unwrap(), &Org::demo());
        assert_eq!(
            message,
            "fastcall-emulator ready on http://127.0.0.1:8080; send an SMS with:\n\n  \
             curl -s http://127.0.0.1:8080/actions/SubscriberSMSInvocable \
             -H 'Content-Type: application/json' \
             -d '{\"toPhone\": \"+14155550123\", \"bodyText\": \"Hello from fastcall-emulator\"}'\n"
        );
    }

    #[test]
    fn without_a_default_user_the_line_names_the_first_user_who_can_send() {
        let org = load(USERS);
        assert_eq!(Sender::for_org(&org), Sender::UserHeader(id(KATHERINE)));
        let message = ready_message(ADDR.parse().unwrap(), &org);
        assert!(
            message.contains("send an SMS as Katherine Johnson (005Dn0000003KatIAE) with:"),
            "{message}"
        );
        assert_eq!(
            curl(&message),
            "curl -s http://127.0.0.1:8080/actions/SubscriberSMSInvocable \
             -H 'Content-Type: application/json' -H 'X-Fastcall-User-Id: 005Dn0000003KatIAE' \
             -d '{\"toPhone\": \"+14155550123\", \"bodyText\": \"Hello from fastcall-emulator\"}'"
        );
    }

    #[test]
    fn a_default_user_who_cannot_send_gives_way_to_one_who_can() {
        for default in [LINUS, GRACE] {
            let org = load(&format!("settings: {{defaultUserId: {default}}}\n{USERS}"));
            assert_eq!(
                Sender::for_org(&org),
                Sender::UserHeader(id(KATHERINE)),
                "{default}"
            );
        }
        let org = load(&format!("settings: {{defaultUserId: {ADA}}}\n{USERS}"));
        assert_eq!(Sender::for_org(&org), Sender::DefaultUser);
    }

    #[test]
    fn when_nobody_can_send_a_fastcall_user_is_named_rather_than_none() {
        let org = load(&format!("settings: {{smsEnabled: false}}\n{USERS}"));
        assert_eq!(Sender::for_org(&org), Sender::UserHeader(id(GRACE)));
        let org = load("users: [{id: 005Dn0000004LinIAE, name: Linus, fastcallUser: false}]");
        assert_eq!(Sender::for_org(&org), Sender::DefaultUser);
    }

    #[test]
    fn with_api_keys_the_line_sends_a_key_from_the_environment_never_the_key() {
        let keys = "apiKeys:\n  - {key: k-grace-secret, userId: 005Dn0000002GrcIAE}\n  \
                    - {key: k-ada-secret, userId: 005Dn0000001AdaIAE}\n";
        // Grace cannot send; the default user does not matter when keys decide.
        let org = load(&format!(
            "settings: {{defaultUserId: {KATHERINE}}}\n{USERS}{keys}"
        ));
        assert_eq!(Sender::for_org(&org), Sender::ApiKey(id(ADA)));
        let message = ready_message(ADDR.parse().unwrap(), &org);
        assert!(!message.contains("secret"), "{message}");
        assert!(
            message.contains(
                "with FASTCALL_API_KEY set to the key of Ada Lovelace (005Dn0000001AdaIAE)"
            ),
            "{message}"
        );
        assert_eq!(
            curl(&message),
            "curl -s http://127.0.0.1:8080/actions/SubscriberSMSInvocable \
             -H 'Content-Type: application/json' -H \"Authorization: Bearer $FASTCALL_API_KEY\" \
             -d '{\"toPhone\": \"+14155550123\", \"bodyText\": \"Hello from fastcall-emulator\"}'"
        );
        // With no key's user able to send, the first key still gets past who is calling.
        let org = load(&format!(
            "{USERS}apiKeys: [{{key: k-grace-secret, userId: {GRACE}}}]"
        ));
        assert_eq!(Sender::for_org(&org), Sender::ApiKey(id(GRACE)));
    }
}
