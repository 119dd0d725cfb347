//! SMS template merge fields: `{!Object.Field}`.

use std::borrow::Cow;

/// Renders `template`, replacing each `{!Object.Field}` with what `resolve(object, field)`
/// returns. Whatever it cannot resolve (an unknown object or field, or a merge field that is
/// not `Object.Field`) renders empty, as in Salesforce. An unterminated `{!` is kept as text.
pub fn render<'v>(
    template: &str,
    mut resolve: impl FnMut(&str, &str) -> Option<Cow<'v, str>>,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{!") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let reference = rest[start + 2..start + 2 + len].trim();
        if let Some((object, field)) = reference.split_once('.')
            && let Some(value) = resolve(object.trim(), field.trim())
        {
            out.push_str(&value);
        }
        rest = &rest[start + 2 + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(object: &str, field: &str) -> Option<Cow<'static, str>> {
        match (object, field) {
            ("Contact", "FirstName") => Some("Ada".into()),
            ("User", "Name") => Some("Grace Hopper".into()),
            _ => None,
        }
    }

    #[test]
    fn merge_fields_are_filled() {
        assert_eq!(
            render("Hi {!Contact.FirstName}, this is {!User.Name}.", contact),
            "Hi Ada, this is Grace Hopper."
        );
    }

    #[test]
    fn unknown_fields_render_empty() {
        assert_eq!(render("Hi {!Contact.Nickname}!", contact), "Hi !");
        assert_eq!(render("Hi {!Lead.FirstName}!", contact), "Hi !");
        assert_eq!(render("Hi {!FirstName}!", contact), "Hi !");
        assert_eq!(render("{!}", contact), "");
    }

    #[test]
    fn text_without_merge_fields_is_unchanged() {
        for text in [
            "",
            "plain",
            "braces { } and ! alone",
            "{Contact.FirstName}",
            "ünïcödé ✓",
        ] {
            assert_eq!(render(text, contact), text);
        }
    }

    #[test]
    fn unterminated_merge_field_is_kept_as_text() {
        assert_eq!(
            render("Hi {!Contact.FirstName", contact),
            "Hi {!Contact.FirstName"
        );
        assert_eq!(
            render("{!Contact.FirstName} {!User.Name", contact),
            "Ada {!User.Name"
        );
    }

    #[test]
    fn whitespace_inside_a_merge_field_is_ignored() {
        assert_eq!(render("{! Contact.FirstName }", contact), "Ada");
    }
}
