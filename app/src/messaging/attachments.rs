//! What a patient may attach to a message: images and PDF documents, at most 4, each at most
//! 10 MB. The type is found from the file's first bytes, never from its name or from what the
//! browser claims: a program renamed `photo.jpg` is refused.

use super::{ATTACHMENTS_MAX, ATTACHMENT_BYTES_MAX};

/// The file types the portal accepts, as found from their content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    /// Photos from iPhones (HEIF/HEIC).
    Heic,
    Pdf,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Heic => "image/heic",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// The file's kind, from its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        let starts = |magic: &[u8]| bytes.starts_with(magic);
        if starts(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if starts(b"\xFF\xD8\xFF") {
            Some(FileKind::Jpeg)
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Some(FileKind::Gif)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && matches!(&bytes[8..12], b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"hevc") {
            Some(FileKind::Heic)
        } else if starts(b"%PDF-") {
            Some(FileKind::Pdf)
        } else {
            None
        }
    }
}

/// Why an attachment was refused; each says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("You can attach at most {ATTACHMENTS_MAX} files to a message.")]
    TooMany,
    #[error("“{0}” is larger than 10 MB. Please attach a smaller file.")]
    TooLarge(String),
    #[error("“{0}” is not a picture or a PDF document. Please attach photos (JPEG, PNG, HEIC) or PDF files only.")]
    WrongType(String),
    #[error("“{0}” is empty.")]
    Empty(String),
}

/// A file that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedFile {
    pub file_name: String,
    pub kind: FileKind,
    pub content: Vec<u8>,
}

/// A file name safe to show and to offer as a download name: no folders, no control
/// characters, no quotes, at most 100 characters; "attachment" when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(100)
        .collect();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned
    }
}

/// Checks one file. `index` is how many files were already accepted for this message.
pub fn check(index: usize, name: &str, content: Vec<u8>) -> Result<CheckedFile, AttachmentError> {
    let file_name = clean_file_name(name);
    if index >= ATTACHMENTS_MAX {
        return Err(AttachmentError::TooMany);
    }
    if content.is_empty() {
        return Err(AttachmentError::Empty(file_name));
    }
    if content.len() > ATTACHMENT_BYTES_MAX {
        return Err(AttachmentError::TooLarge(file_name));
    }
    let kind = FileKind::sniff(&content).ok_or_else(|| AttachmentError::WrongType(file_name.clone()))?;
    Ok(CheckedFile { file_name, kind, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        v.extend_from_slice(&[0; 32]);
        v
    }

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(FileKind::sniff(&png()), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"GIF89a\x01\0"), Some(FileKind::Gif));
        assert_eq!(FileKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(FileKind::sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(FileKind::Heic));
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        // A program, a web page and a script, whatever they are called.
        assert_eq!(FileKind::sniff(b"MZ\x90\0\x03"), None);
        assert_eq!(FileKind::sniff(b"\x7fELF\x02\x01"), None);
        assert_eq!(FileKind::sniff(b"<html><script>"), None);
        assert_eq!(FileKind::sniff(b"<svg xmlns="), None);
        assert_eq!(FileKind::sniff(b"RIFF\x10\0\0\0AVI "), None);
        assert_eq!(FileKind::sniff(b""), None);
    }

    #[test]
    fn the_name_does_not_decide() {
        assert!(matches!(check(0, "photo.jpg", b"MZ\x90\0".to_vec()), Err(AttachmentError::WrongType(n)) if n == "photo.jpg"));
        let ok = check(0, "scan.exe", png()).unwrap();
        assert_eq!(ok.kind, FileKind::Png);
        assert_eq!(ok.file_name, "scan.exe");
    }

    #[test]
    fn size_and_count_limits() {
        let mut big = png();
        big.resize(ATTACHMENT_BYTES_MAX, 0);
        assert!(check(0, "a.png", big.clone()).is_ok());
        big.push(0);
        assert_eq!(check(0, "a.png", big), Err(AttachmentError::TooLarge("a.png".into())));
        assert!(check(3, "d.png", png()).is_ok());
        assert_eq!(check(4, "e.png", png()), Err(AttachmentError::TooMany));
        assert_eq!(check(0, "e.png", vec![]), Err(AttachmentError::Empty("e.png".into())));
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(clean_file_name("C:\\Users\\me\\Desktop\\rash.jpg"), "rash.jpg");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\"b\r\nc.pdf"), "abc.pdf");
        assert_eq!(clean_file_name("..."), "attachment");
        assert_eq!(clean_file_name(""), "attachment");
        assert_eq!(clean_file_name(&"x".repeat(300)).chars().count(), 100);
    }
}
