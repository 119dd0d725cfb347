//! Value types parsed from outside input: Ids, phone numbers, instants, templates, media URLs.

pub mod lifecycle;
pub mod media_url;
pub mod objects;
pub mod phone;
pub mod salesforce_id;
pub mod status;
pub mod template;
pub mod time;

pub use media_url::{MediaUrl, MediaUrlError};
pub use phone::{Country, E164, PhoneError};
pub use salesforce_id::{IdError, SalesforceId};
pub use status::{CallStatus, SmsStatus};
pub use time::Timestamp;
