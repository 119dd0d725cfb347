//! The keywords a customer texts to opt out of an org's number, back in, or for help, as
//! Twilio matches them on long codes (its "opt-out keywords (SMS STOP filtering)" support
//! article): the whole body is one keyword, trimmed, in any case. "Stop please" is a
//! message, not a keyword. Each keyword gets Twilio's default reply.

/// What a keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: no more messages from this number.
    OptOut,
    /// START, YES, UNSTOP: messages from this number again.
    OptIn,
    /// HELP, INFO.
    Help,
}

const KEYWORDS: [(&str, Keyword); 11] = [
    ("STOP", Keyword::OptOut),
    ("STOPALL", Keyword::OptOut),
    ("UNSUBSCRIBE", Keyword::OptOut),
    ("CANCEL", Keyword::OptOut),
    ("END", Keyword::OptOut),
    ("QUIT", Keyword::OptOut),
    ("START", Keyword::OptIn),
    ("YES", Keyword::OptIn),
    ("UNSTOP", Keyword::OptIn),
    ("HELP", Keyword::Help),
    ("INFO", Keyword::Help),
];

impl Keyword {
    /// The keyword `body` is, if the whole of it (trimmed, in any case) is one.
    pub fn of(body: &str) -> Option<Self> {
        let word = body.trim();
        KEYWORDS
            .iter()
            .find(|(keyword, _)| keyword.eq_ignore_ascii_case(word))
            .map(|&(_, keyword)| keyword)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OptOut => "OptOut",
            Self::OptIn => "OptIn",
            Self::Help => "Help",
        }
    }

    /// Twilio's default reply, which it sends from the number the keyword was texted to.
    pub const fn reply(self) -> &'static str {
        match self {
            Self::OptOut => {
                "You have successfully been unsubscribed. You will not receive any more \
                 messages from this number. Reply START to resubscribe."
            }
            Self::OptIn => {
                "You have successfully been re-subscribed to messages from this number. \
                 Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
            }
            Self::Help => "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyword_is_the_whole_body_trimmed_in_any_case() {
        for body in [
            "STOP",
            "stop",
            " Stop\n",
            "\tsToPaLl ",
            "unsubscribe",
            "Cancel",
            "end",
            "QUIT",
        ] {
            assert_eq!(Keyword::of(body), Some(Keyword::OptOut), "{body:?}");
        }
        for body in ["START", "yes", " Unstop "] {
            assert_eq!(Keyword::of(body), Some(Keyword::OptIn), "{body:?}");
        }
        for body in ["HELP", "info "] {
            assert_eq!(Keyword::of(body), Some(Keyword::Help), "{body:?}");
        }
    }

    #[test]
    fn a_keyword_inside_a_sentence_or_with_more_is_no_keyword() {
        for body in [
            "stop please",
            "Please STOP",
            "STOP!",
            "S TOP",
            "stopp",
            "",
            "  ",
        ] {
            assert_eq!(Keyword::of(body), None, "{body:?}");
        }
    }
}
