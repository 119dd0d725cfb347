//! The `mediaURL` of an MMS: an absolute http(s) URL of a GIF, PNG or JPEG image.

use std::fmt;

use url::Url;

const IMAGE_EXTENSIONS: [&str; 4] = ["gif", "png", "jpg", "jpeg"];

#[derive(Clone, PartialEq, Eq)]
pub struct MediaUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaUrlError {
    #[error("is not an absolute URL")]
    NotAbsolute,
    #[error("must use http or https, not {0}")]
    Scheme(String),
    #[error("points to a .{0} file; supported media are GIF, PNG and JPEG")]
    Extension(String),
}

impl MediaUrl {
    /// Accepts an absolute http(s) URL whose path, when it names a file extension, names an
    /// image type the providers accept. A URL without an extension (a CDN handle, say) is
    /// accepted as is, since its type is only known once fetched.
    pub fn parse(input: &str) -> Result<Self, MediaUrlError> {
        let url = Url::parse(input.trim()).map_err(|_| MediaUrlError::NotAbsolute)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(MediaUrlError::Scheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(MediaUrlError::NotAbsolute);
        }
        let file_name = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("");
        if let Some((_, extension)) = file_name.rsplit_once('.')
            && !IMAGE_EXTENSIONS
                .iter()
                .any(|e| e.eq_ignore_ascii_case(extension))
        {
            return Err(MediaUrlError::Extension(extension.to_owned()));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for MediaUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_urls_are_accepted() {
        for input in [
            "https://example.com/cat.png",
            "http://example.com/a/b/photo.JPEG?size=large",
            "https://cdn.example.com/media/12345",
            "https://example.com/",
            "https://example.com/anim.gif#frame",
        ] {
            assert!(MediaUrl::parse(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn bad_urls_are_rejected() {
        let cases = [
            ("cat.png", MediaUrlError::NotAbsolute),
            ("/images/cat.png", MediaUrlError::NotAbsolute),
            ("", MediaUrlError::NotAbsolute),
            (
                "ftp://example.com/cat.png",
                MediaUrlError::Scheme("ftp".into()),
            ),
            ("file:///etc/passwd", MediaUrlError::Scheme("file".into())),
            (
                "https://example.com/movie.mp4",
                MediaUrlError::Extension("mp4".into()),
            ),
            (
                "https://example.com/doc.pdf?x.png",
                MediaUrlError::Extension("pdf".into()),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(MediaUrl::parse(input), Err(expected), "{input}");
        }
    }
}
