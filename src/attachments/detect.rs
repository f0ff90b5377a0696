//! Decides a document's type from its content, and makes its file name
//! safe to show and to send in Content-Disposition.

use std::fmt::Write as _;
use std::io::{Cursor, Read};

use zip::{CompressionMethod, ZipArchive};

/// The document types the service accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Png,
    Jpeg,
    Text,
}

impl DocumentType {
    pub const ALL: [DocumentType; 8] = [
        DocumentType::Pdf,
        DocumentType::Docx,
        DocumentType::Xlsx,
        DocumentType::Pptx,
        DocumentType::Odt,
        DocumentType::Png,
        DocumentType::Jpeg,
        DocumentType::Text,
    ];

    /// Returns the value stored in the database: pdf, docx, xlsx, pptx, odt, png, jpeg or text.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::Pdf => "pdf",
            DocumentType::Docx => "docx",
            DocumentType::Xlsx => "xlsx",
            DocumentType::Pptx => "pptx",
            DocumentType::Odt => "odt",
            DocumentType::Png => "png",
            DocumentType::Jpeg => "jpeg",
            DocumentType::Text => "text",
        }
    }

    /// Parses a database value written by [`DocumentType::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        DocumentType::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// Returns the Content-Type sent on download.
    pub fn mime_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DocumentType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            DocumentType::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            DocumentType::Odt => ODT_MIME_TYPE,
            DocumentType::Png => "image/png",
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Text => "text/plain; charset=utf-8",
        }
    }

    /// Returns the usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            DocumentType::Pdf => "pdf",
            DocumentType::Docx => "docx",
            DocumentType::Xlsx => "xlsx",
            DocumentType::Pptx => "pptx",
            DocumentType::Odt => "odt",
            DocumentType::Png => "png",
            DocumentType::Jpeg => "jpg",
            DocumentType::Text => "txt",
        }
    }

    /// Returns a short label for pages, such as "PDF" or "Word document".
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::Pdf => "PDF",
            DocumentType::Docx => "Word document",
            DocumentType::Xlsx => "Excel workbook",
            DocumentType::Pptx => "PowerPoint presentation",
            DocumentType::Odt => "OpenDocument text",
            DocumentType::Png => "PNG image",
            DocumentType::Jpeg => "JPEG image",
            DocumentType::Text => "Plain text",
        }
    }

    /// Returns the lower-case extensions that already fit this type, so a
    /// download name ending in one of them gets no extra extension.
    fn accepted_extensions(self) -> &'static [&'static str] {
        match self {
            DocumentType::Pdf => &["pdf"],
            DocumentType::Docx => &["docx"],
            DocumentType::Xlsx => &["xlsx"],
            DocumentType::Pptx => &["pptx"],
            DocumentType::Odt => &["odt"],
            DocumentType::Png => &["png"],
            DocumentType::Jpeg => &["jpg", "jpeg"],
            DocumentType::Text => &["txt", "text", "csv", "md", "log"],
        }
    }
}

/// The reason a file was not accepted. Each completes the sentence
/// "<file name> was not accepted because …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Empty,
    UnknownType,
    /// A ZIP archive that is not a readable DOCX, XLSX, PPTX or ODT file.
    Archive,
    /// Text with a UTF-16 byte-order mark, as Windows Notepad's "Unicode" saves it.
    Utf16Text,
    /// An OLE compound file: a legacy .doc, .xls or .ppt, or a password-protected Office file.
    LegacyOffice,
    /// Text in a single-byte encoding such as Windows-1252, not UTF-8.
    LegacyText,
}

impl Rejection {
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Empty => "it is empty (0 bytes)",
            Rejection::UnknownType => {
                "its content is not one of the accepted types: PDF, Word (DOCX), Excel (XLSX), \
                 PowerPoint (PPTX), OpenDocument text (ODT), PNG, JPEG or plain text"
            }
            Rejection::Archive => {
                "it is a ZIP archive but not a readable Word (DOCX), Excel (XLSX), PowerPoint (PPTX) \
                 or OpenDocument text (ODT) file, and other archives are not accepted"
            }
            Rejection::Utf16Text => {
                "it is text saved as UTF-16, so save it as UTF-8 text or as a PDF and upload it again"
            }
            Rejection::LegacyText => {
                "it is text in an older encoding such as Windows-1252, not UTF-8, so save it as UTF-8 \
                 text or as a PDF and upload it again"
            }
            Rejection::LegacyOffice => {
                "it is an old-style Office file (.doc, .xls or .ppt) or a password-protected one, so \
                 save it as DOCX, XLSX, PPTX or PDF without a password and upload it again"
            }
        }
    }
}

const PDF_MAGIC: &[u8] = b"%PDF-";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xFF\xD8\xFF";
/// The signature that starts an OLE compound file.
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
/// The local file header signature that starts a ZIP archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

const ODT_MIME_TYPE: &str = "application/vnd.oasis.opendocument.text";
/// Maximum bytes read from an ODF `mimetype` entry, well above the 39 bytes
/// of the ODT media type.
const MAX_ODF_MIME_TYPE_LEN: u64 = 100;

/// Decides the document type from the content alone. The file name plays no part.
pub fn detect(content: &[u8]) -> Result<DocumentType, Rejection> {
    if content.is_empty() {
        return Err(Rejection::Empty);
    }

    if content.starts_with(PDF_MAGIC) {
        return Ok(DocumentType::Pdf);
    }
    if content.starts_with(PNG_SIGNATURE) {
        return Ok(DocumentType::Png);
    }
    if content.starts_with(JPEG_MAGIC) {
        return Ok(DocumentType::Jpeg);
    }
    if content.starts_with(ZIP_MAGIC) {
        return detect_zip_document(content).ok_or(Rejection::Archive);
    }
    if is_plain_text(content) {
        return Ok(DocumentType::Text);
    }
    if content.starts_with(OLE_MAGIC) {
        return Err(Rejection::LegacyOffice);
    }
    if content.starts_with(b"\xFF\xFE") || content.starts_with(b"\xFE\xFF") {
        return Err(Rejection::Utf16Text);
    }
    if has_only_text_bytes(content) {
        return Err(Rejection::LegacyText);
    }

    Err(Rejection::UnknownType)
}

/// Recognises an Office Open XML or OpenDocument text file inside a ZIP
/// archive, or returns `None` for any other or unreadable archive.
///
/// Only the central directory's entry names are looked at, plus the ODF
/// `mimetype` entry, and only when it is stored uncompressed. Nothing is
/// decompressed, so a ZIP bomb cannot expand here.
fn detect_zip_document(content: &[u8]) -> Option<DocumentType> {
    let mut archive = ZipArchive::new(Cursor::new(content)).ok()?;

    if archive.index_for_name("[Content_Types].xml").is_some() {
        let office_parts = [
            ("word/document.xml", DocumentType::Docx),
            ("xl/workbook.xml", DocumentType::Xlsx),
            ("ppt/presentation.xml", DocumentType::Pptx),
        ];
        for (part, kind) in office_parts {
            if archive.index_for_name(part).is_some() {
                return Some(kind);
            }
        }
    }

    if odf_mime_type(&mut archive)?.as_slice() == ODT_MIME_TYPE.as_bytes() {
        return Some(DocumentType::Odt);
    }

    None
}

/// Reads the media type that an OpenDocument package declares in its first
/// entry, `mimetype`, which the ODF packaging rules require to be stored.
fn odf_mime_type(archive: &mut ZipArchive<Cursor<&[u8]>>) -> Option<Vec<u8>> {
    if archive.name_for_index(0)? != "mimetype" {
        return None;
    }

    let entry = archive.by_index(0).ok()?;
    if entry.compression() != CompressionMethod::Stored {
        return None;
    }

    let mut mime_type = Vec::new();
    entry.take(MAX_ODF_MIME_TYPE_LEN).read_to_end(&mut mime_type).ok()?;
    Some(mime_type)
}

/// Checks that the content is UTF-8 text (a byte order mark is allowed) with
/// no control characters other than tab, line feed, carriage return and form
/// feed. UTF-16 text almost always fails, because its byte order mark is not
/// valid UTF-8 and its ASCII characters come with NUL bytes.
fn is_plain_text(content: &[u8]) -> bool {
    if std::str::from_utf8(content).is_err() {
        return false;
    }

    // In valid UTF-8 every byte below 0x80 is an ASCII character, so checking
    // single bytes finds every C0 control character and DEL.
    content.iter().all(|&byte| match byte {
        b'\t' | b'\n' | b'\r' | b'\x0C' => true,
        0x00..=0x1F | 0x7F => false,
        _ => true,
    })
}

/// Checks that no byte is a control character other than tab, line feed,
/// carriage return and form feed: single-byte encoded text passes, while
/// binary formats almost always contain NUL or other control bytes.
fn has_only_text_bytes(content: &[u8]) -> bool {
    content.iter().all(|&byte| matches!(byte, b'\t' | b'\n' | b'\r' | b'\x0C' | 0x20..=0x7E | 0x80..=0xFF))
}

/// Maximum length of a file name, in characters (not bytes).
const MAX_FILE_NAME_CHARS: usize = 200;
/// Maximum length, in characters, of an extension that is kept when a long name is cut.
const MAX_KEPT_EXTENSION_CHARS: usize = 10;

/// Makes an uploaded file name safe to show on pages and to store.
///
/// Keeps only the last path component, removes control, bidirectional and
/// invisible characters, collapses whitespace, trims whitespace and dots at
/// both ends and cuts the name to 200 characters, keeping a short extension.
/// A name with nothing meaningful left becomes `document.<extension>`.
pub fn sanitize_file_name(raw: &str, detected: DocumentType) -> String {
    let last_component = raw.rsplit(['/', '\\']).next().unwrap_or_default();

    let mut cleaned = String::with_capacity(last_component.len());
    let mut after_whitespace = false;
    for c in last_component.chars() {
        // Tabs and line breaks separate words, so they become spaces; other
        // control characters go.
        let separates_words = c.is_whitespace();
        if !separates_words && (c.is_control() || is_bidi_control(c) || is_invisible(c)) {
            continue;
        }
        if separates_words {
            if !after_whitespace {
                cleaned.push(' ');
            }
            after_whitespace = true;
            continue;
        }
        cleaned.push(c);
        after_whitespace = false;
    }

    // A separator just before the extension, as in "report\r.pdf", goes.
    let cleaned = cleaned.replace(" .", ".");
    let trimmed = trim_dots_and_whitespace(&cleaned);
    if trimmed.chars().all(|c| matches!(c, '.' | ' ' | '_')) {
        return format!("document.{}", detected.extension());
    }

    truncate_keeping_extension(trimmed, MAX_FILE_NAME_CHARS)
}

/// Matches Unicode bidirectional marks, embeddings, overrides and isolates,
/// which can make `invoice<U+202E>fdp.exe` display as `invoiceexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Matches zero-width and other invisible characters that could hide part of a name.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn trim_dots_and_whitespace(name: &str) -> &str {
    name.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Cuts `name` to at most `max_chars` characters. When the name has an
/// extension of at most 10 characters, the stem is cut and the extension kept.
fn truncate_keeping_extension(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }

    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension)
        .filter(|extension| !extension.is_empty() && extension.chars().count() <= MAX_KEPT_EXTENSION_CHARS);

    match extension {
        Some(extension) => {
            let stem_chars = max_chars - 1 - extension.chars().count();
            let stem: String = name.chars().take(stem_chars).collect();
            format!("{}.{extension}", trim_dots_and_whitespace(&stem))
        }
        None => {
            let cut: String = name.chars().take(max_chars).collect();
            trim_dots_and_whitespace(&cut).to_owned()
        }
    }
}

/// Builds the name sent on download: the stored name, with the detected
/// type's extension appended when the name's own extension does not fit the
/// content, so `report.exe` holding a PDF downloads as `report.exe.pdf`.
pub fn download_file_name(stored: &str, detected: DocumentType) -> String {
    if stored.trim().is_empty() {
        return format!("document.{}", detected.extension());
    }

    let current_extension = stored.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase());
    let fits = current_extension.is_some_and(|extension| detected.accepted_extensions().contains(&extension.as_str()));
    if fits { stored.to_owned() } else { format!("{stored}.{}", detected.extension()) }
}

/// Builds a Content-Disposition header value that makes the browser save the
/// file under `file_name`.
///
/// The `filename` parameter is an ASCII fallback, and `filename*` carries the
/// full name as percent-encoded UTF-8 in the RFC 5987 extended syntax. Every
/// byte of the result is printable ASCII, so it is a valid header value for
/// any input.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if (' '..='~').contains(&c) && !matches!(c, '"' | '\\' | ';' | '%') { c } else { '_' })
        .collect();

    let mut encoded = String::with_capacity(file_name.len() * 3);
    for &byte in file_name.as_bytes() {
        if is_attr_char(byte) {
            encoded.push(char::from(byte));
        } else {
            // `fmt::Write` for `String` never returns an error.
            let _ = write!(encoded, "%{byte:02X}");
        }
    }

    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Checks whether `byte` is an RFC 5987 `attr-char`, which may appear
/// unencoded in an extended parameter value.
fn is_attr_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(byte, b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::ZipWriter;
    use zip::write::SimpleFileOptions;

    use super::*;

    const MINIMAL_PDF: &[u8] = b"%PDF-1.4\n\
        1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
        2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
        trailer << /Root 1 0 R >>\n\
        %%EOF\n";

    /// A 1×1 grey PNG: signature, IHDR, IDAT and IEND chunks.
    const MINIMAL_PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00,
        0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x48, 0xAF, 0xA4,
        0x71, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    /// A JFIF APP0 segment followed by the end-of-image marker. It has no
    /// image data, but detection reads only the start-of-image marker.
    const JFIF_HEADER: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0xFF, 0xD9,
    ];

    const PACKAGE_RELATIONSHIPS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="MAIN_PART"/></Relationships>"#;

    /// Builds a ZIP archive whose entries are all stored uncompressed, in the given order.
    fn zip_archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn content_types(main_part: &str, main_content_type: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/{main_part}" ContentType="{main_content_type}"/></Types>"#
        )
    }

    /// Builds an Office Open XML package with `[Content_Types].xml`, the
    /// package relationships and one main part.
    fn office_package(main_part: &str, main_content_type: &str, main_xml: &str) -> Vec<u8> {
        let relationships = PACKAGE_RELATIONSHIPS.replace("MAIN_PART", main_part);
        zip_archive(&[
            ("[Content_Types].xml", content_types(main_part, main_content_type).as_bytes()),
            ("_rels/.rels", relationships.as_bytes()),
            (main_part, main_xml.as_bytes()),
        ])
    }

    fn minimal_docx() -> Vec<u8> {
        office_package(
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>"#,
        )
    }

    fn minimal_xlsx() -> Vec<u8> {
        office_package(
            "xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>"#,
        )
    }

    fn minimal_pptx() -> Vec<u8> {
        office_package(
            "ppt/presentation.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            r#"<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>"#,
        )
    }

    /// Builds an OpenDocument package whose stored `mimetype` entry comes first.
    fn odf_package(mime_type: &str) -> Vec<u8> {
        let manifest = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="{mime_type}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
        );
        let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2"><office:body/></office:document-content>"#;
        zip_archive(&[
            ("mimetype", mime_type.as_bytes()),
            ("META-INF/manifest.xml", manifest.as_bytes()),
            ("content.xml", content.as_bytes()),
        ])
    }

    fn read_u16(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    fn read_u32(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// Rewrites the compression method of every entry except `mimetype` to
    /// Deflate (8) in both the central directory and the local headers, as in
    /// files saved by office software. The data itself stays uncompressed, so
    /// reading any of those entries would fail.
    fn mark_entries_deflated(mut archive: Vec<u8>) -> Vec<u8> {
        const DEFLATE: [u8; 2] = 8u16.to_le_bytes();

        let end_of_directory = archive.windows(4).rposition(|window| window == b"PK\x05\x06").unwrap();
        let entry_count = read_u16(&archive, end_of_directory + 10);
        let mut header = read_u32(&archive, end_of_directory + 16) as usize;

        for _ in 0..entry_count {
            assert_eq!(&archive[header..header + 4], b"PK\x01\x02");
            let name_len = usize::from(read_u16(&archive, header + 28));
            let extra_len = usize::from(read_u16(&archive, header + 30));
            let comment_len = usize::from(read_u16(&archive, header + 32));
            let local_header = read_u32(&archive, header + 42) as usize;

            if &archive[header + 46..header + 46 + name_len] != b"mimetype" {
                archive[header + 10..header + 12].copy_from_slice(&DEFLATE);
                archive[local_header + 8..local_header + 10].copy_from_slice(&DEFLATE);
            }
            header += 46 + name_len + extra_len + comment_len;
        }
        archive
    }

    #[test]
    fn document_type_database_value_round_trip() {
        for kind in DocumentType::ALL {
            assert_eq!(DocumentType::parse(kind.as_str()), Some(kind), "{kind:?}");
        }
        assert_eq!(DocumentType::parse("exe"), None);
        assert_eq!(DocumentType::parse("PDF"), None);
    }

    #[test]
    fn document_type_names_and_mime_types() {
        assert_eq!(DocumentType::Jpeg.as_str(), "jpeg");
        assert_eq!(DocumentType::Jpeg.extension(), "jpg");
        assert_eq!(DocumentType::Text.extension(), "txt");
        assert_eq!(DocumentType::Text.mime_type(), "text/plain; charset=utf-8");
        assert_eq!(DocumentType::Xlsx.mime_type(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(DocumentType::Odt.mime_type(), "application/vnd.oasis.opendocument.text");
        assert_eq!(DocumentType::Docx.label(), "Word document");
        assert_eq!(DocumentType::Pptx.label(), "PowerPoint presentation");
    }

    #[test]
    fn detect_accepts_pdf() {
        assert_eq!(detect(MINIMAL_PDF), Ok(DocumentType::Pdf));
    }

    #[test]
    fn pdf_named_exe_downloads_as_pdf() {
        let detected = detect(MINIMAL_PDF).unwrap();
        let stored = sanitize_file_name("report.exe", detected);

        assert_eq!(detected, DocumentType::Pdf);
        assert_eq!(download_file_name(&stored, detected), "report.exe.pdf");
    }

    #[test]
    fn detect_accepts_png() {
        assert_eq!(detect(MINIMAL_PNG), Ok(DocumentType::Png));
    }

    #[test]
    fn detect_accepts_jpeg() {
        assert_eq!(detect(JFIF_HEADER), Ok(DocumentType::Jpeg));
    }

    #[test]
    fn detect_accepts_office_documents() {
        assert_eq!(detect(&minimal_docx()), Ok(DocumentType::Docx));
        assert_eq!(detect(&minimal_xlsx()), Ok(DocumentType::Xlsx));
        assert_eq!(detect(&minimal_pptx()), Ok(DocumentType::Pptx));
    }

    #[test]
    fn deflate_marking_makes_entries_unreadable() {
        let docx = mark_entries_deflated(minimal_docx());
        let mut archive = ZipArchive::new(Cursor::new(docx.as_slice())).unwrap();
        assert!(archive.by_name("word/document.xml").is_err());
    }

    #[test]
    fn detect_accepts_deflated_office_documents() {
        assert_eq!(detect(&mark_entries_deflated(minimal_docx())), Ok(DocumentType::Docx));
        assert_eq!(detect(&mark_entries_deflated(minimal_xlsx())), Ok(DocumentType::Xlsx));
        assert_eq!(detect(&mark_entries_deflated(minimal_pptx())), Ok(DocumentType::Pptx));
    }

    #[test]
    fn detect_accepts_odt() {
        assert_eq!(detect(&odf_package(ODT_MIME_TYPE)), Ok(DocumentType::Odt));
    }

    #[test]
    fn detect_accepts_deflated_odt() {
        let odt = mark_entries_deflated(odf_package(ODT_MIME_TYPE));
        assert_eq!(detect(&odt), Ok(DocumentType::Odt));
    }

    #[test]
    fn detect_rejects_ods_spreadsheet() {
        let ods = odf_package("application/vnd.oasis.opendocument.spreadsheet");
        assert_eq!(detect(&ods), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_odt_mimetype_not_first() {
        let archive =
            zip_archive(&[("content.xml", b"<office:document-content/>"), ("mimetype", ODT_MIME_TYPE.as_bytes())]);
        assert_eq!(detect(&archive), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_deflated_odt_mimetype() {
        let mut odt = odf_package(ODT_MIME_TYPE);
        // The mimetype entry is first, so its local header starts the file.
        odt[8..10].copy_from_slice(&8u16.to_le_bytes());
        let central_directory = odt.windows(4).position(|window| window == b"PK\x01\x02").unwrap();
        odt[central_directory + 10..central_directory + 12].copy_from_slice(&8u16.to_le_bytes());

        assert_eq!(detect(&odt), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_odt_mimetype_trailing_bytes() {
        let archive = odf_package("application/vnd.oasis.opendocument.text\n");
        assert_eq!(detect(&archive), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_generic_zip() {
        let archive = zip_archive(&[("readme.txt", b"hello"), ("bin/tool.exe", b"MZ\x90\x00")]);
        assert_eq!(detect(&archive), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_office_package_without_main_part() {
        let archive = zip_archive(&[("[Content_Types].xml", b"<Types/>"), ("word/other.xml", b"<x/>")]);
        assert_eq!(detect(&archive), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_word_part_without_content_types() {
        let archive = zip_archive(&[("word/document.xml", b"<w:document/>")]);
        assert_eq!(detect(&archive), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_truncated_zip() {
        let docx = minimal_docx();
        assert_eq!(detect(&docx[..docx.len() / 2]), Err(Rejection::Archive));
        assert_eq!(detect(b"PK\x03\x04"), Err(Rejection::Archive));
    }

    #[test]
    fn detect_rejects_empty() {
        assert_eq!(detect(b""), Err(Rejection::Empty));
    }

    #[test]
    fn detect_rejects_executables_and_binaries() {
        let windows_executable =
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00This program cannot be run in DOS mode.";
        assert_eq!(detect(windows_executable), Err(Rejection::UnknownType));

        let elf = b"\x7FELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        assert_eq!(detect(elf), Err(Rejection::UnknownType));

        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xFF\xFF\xFF\x00\x00\x00!\xF9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
        assert_eq!(detect(gif), Err(Rejection::UnknownType));
    }

    #[test]
    fn detect_ignores_pdf_magic_not_at_start() {
        assert_eq!(detect(b"MZ\x00\x00%PDF-1.4"), Err(Rejection::UnknownType));
    }

    #[test]
    fn detect_accepts_utf8_text() {
        assert_eq!(detect(b"Name,Amount\r\nCaf\xC3\xA9,3\r\n"), Ok(DocumentType::Text));
        assert_eq!(detect(b"\xEF\xBB\xBFwith byte order mark\n"), Ok(DocumentType::Text));
        assert_eq!(detect(b"column\tcolumn\x0Cnext page\n"), Ok(DocumentType::Text));
    }

    #[test]
    fn detect_accepts_html_as_text() {
        let html = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n";
        assert_eq!(detect(html), Ok(DocumentType::Text));
    }

    #[test]
    fn detect_names_windows_1252_text() {
        assert_eq!(detect(b"Caf\xE9 menu\r\n"), Err(Rejection::LegacyText));
    }

    #[test]
    fn detect_names_legacy_office_files() {
        let doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00".to_vec();
        assert_eq!(detect(&doc), Err(Rejection::LegacyOffice));
    }

    #[test]
    fn detect_rejects_utf16_text() {
        let utf16le: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("hello\r\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(detect(&utf16le), Err(Rejection::Utf16Text));
    }

    #[test]
    fn detect_rejects_text_with_control_characters() {
        assert_eq!(detect(b"text\0with NUL"), Err(Rejection::UnknownType));
        assert_eq!(detect(b"text with \x1B[31m escape"), Err(Rejection::UnknownType));
        assert_eq!(detect(b"text with DEL\x7F"), Err(Rejection::UnknownType));
    }

    #[test]
    fn rejection_reasons_complete_the_sentence() {
        assert_eq!(Rejection::Empty.reason(), "it is empty (0 bytes)");
        assert_eq!(
            Rejection::UnknownType.reason(),
            "its content is not one of the accepted types: PDF, Word (DOCX), Excel (XLSX), \
             PowerPoint (PPTX), OpenDocument text (ODT), PNG, JPEG or plain text"
        );
        for rejection in [Rejection::Empty, Rejection::UnknownType, Rejection::Archive] {
            assert!(!rejection.reason().ends_with('.'), "{rejection:?}");
        }
    }

    #[test]
    fn sanitize_keeps_ordinary_name() {
        assert_eq!(sanitize_file_name("Q3 report (final).pdf", DocumentType::Pdf), "Q3 report (final).pdf");
        assert_eq!(sanitize_file_name("Überweisung 東京.docx", DocumentType::Docx), "Überweisung 東京.docx");
    }

    #[test]
    fn sanitize_keeps_last_path_component() {
        assert_eq!(sanitize_file_name("../../etc/passwd", DocumentType::Text), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\windows\\win.ini", DocumentType::Text), "win.ini");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\report.pdf", DocumentType::Pdf), "report.pdf");
    }

    #[test]
    fn sanitize_removes_right_to_left_override() {
        let name = sanitize_file_name("invoice\u{202E}fdp.exe", DocumentType::Pdf);
        assert_eq!(name, "invoicefdp.exe");
    }

    #[test]
    fn sanitize_removes_bidi_and_invisible_characters() {
        let name = sanitize_file_name("\u{FEFF}a\u{200B}b\u{2066}c\u{2069}\u{200F}d\u{061C}.txt", DocumentType::Text);
        assert_eq!(name, "abcd.txt");
    }

    #[test]
    fn sanitize_turns_line_breaks_into_spaces() {
        let name = sanitize_file_name("report\n\0final\r.pdf", DocumentType::Pdf);
        assert_eq!(name, "report final.pdf");
    }

    #[test]
    fn sanitize_turns_tab_into_space() {
        assert_eq!(sanitize_file_name("tab\there.pdf", DocumentType::Pdf), "tab here.pdf");
    }

    #[test]
    fn sanitize_collapses_whitespace() {
        let name = sanitize_file_name("  quarterly  \u{00A0} report .pdf  ", DocumentType::Pdf);
        assert_eq!(name, "quarterly report.pdf");
    }

    #[test]
    fn sanitize_trims_leading_and_trailing_dots() {
        assert_eq!(sanitize_file_name(".bashrc", DocumentType::Text), "bashrc");
        assert_eq!(sanitize_file_name("report.pdf...", DocumentType::Pdf), "report.pdf");
    }

    #[test]
    fn sanitize_replaces_meaningless_names() {
        assert_eq!(sanitize_file_name("....", DocumentType::Pdf), "document.pdf");
        assert_eq!(sanitize_file_name("..", DocumentType::Pdf), "document.pdf");
        assert_eq!(sanitize_file_name("", DocumentType::Jpeg), "document.jpg");
        assert_eq!(sanitize_file_name("_ . _", DocumentType::Text), "document.txt");
        assert_eq!(sanitize_file_name("uploads/", DocumentType::Odt), "document.odt");
        assert_eq!(sanitize_file_name("\u{202E}\u{200B}", DocumentType::Png), "document.png");
    }

    #[test]
    fn sanitize_limits_long_name_keeping_extension() {
        let raw = format!("{}.pdf", "a".repeat(296));
        let name = sanitize_file_name(&raw, DocumentType::Pdf);

        assert_eq!(raw.chars().count(), 300);
        assert!(name.chars().count() <= MAX_FILE_NAME_CHARS, "{} chars", name.chars().count());
        assert!(name.ends_with(".pdf"), "{name}");
        assert!(name.starts_with("aaaa"), "{name}");
    }

    #[test]
    fn sanitize_limits_characters_not_bytes() {
        let raw = format!("{}.txt", "é".repeat(150));
        let name = sanitize_file_name(&raw, DocumentType::Text);
        assert_eq!(name, raw);
    }

    #[test]
    fn sanitize_cuts_name_without_short_extension() {
        let raw = "b".repeat(300);
        let name = sanitize_file_name(&raw, DocumentType::Text);
        assert_eq!(name, "b".repeat(200));

        let long_extension = format!("report.{}", "x".repeat(295));
        let name = sanitize_file_name(&long_extension, DocumentType::Text);
        assert_eq!(name.chars().count(), 200);
    }

    #[test]
    fn download_name_keeps_matching_extension() {
        assert_eq!(download_file_name("report.pdf", DocumentType::Pdf), "report.pdf");
        assert_eq!(download_file_name("REPORT.PDF", DocumentType::Pdf), "REPORT.PDF");
        assert_eq!(download_file_name("photo.jpeg", DocumentType::Jpeg), "photo.jpeg");
        assert_eq!(download_file_name("photo.JPG", DocumentType::Jpeg), "photo.JPG");
        assert_eq!(download_file_name("data.csv", DocumentType::Text), "data.csv");
        assert_eq!(download_file_name("notes.md", DocumentType::Text), "notes.md");
    }

    #[test]
    fn download_name_appends_detected_extension() {
        assert_eq!(download_file_name("report.exe", DocumentType::Pdf), "report.exe.pdf");
        assert_eq!(download_file_name("page.html", DocumentType::Text), "page.html.txt");
        assert_eq!(download_file_name("contract", DocumentType::Docx), "contract.docx");
        assert_eq!(download_file_name("sheet.docx", DocumentType::Xlsx), "sheet.docx.xlsx");
        assert_eq!(download_file_name("", DocumentType::Png), "document.png");
    }

    #[test]
    fn content_disposition_encodes_non_ascii_name() {
        let header = content_disposition("Überweisung 東京.pdf");
        assert_eq!(
            header,
            "attachment; filename=\"_berweisung __.pdf\"; \
             filename*=UTF-8''%C3%9Cberweisung%20%E6%9D%B1%E4%BA%AC.pdf"
        );
    }

    #[test]
    fn content_disposition_escapes_quote_and_line_breaks() {
        let header = content_disposition("a\"b\r\nSet-Cookie: x=1;%.txt");
        assert_eq!(
            header,
            "attachment; filename=\"a_b__Set-Cookie: x=1__.txt\"; \
             filename*=UTF-8''a%22b%0D%0ASet-Cookie%3A%20x%3D1%3B%25.txt"
        );
    }

    #[test]
    fn content_disposition_is_valid_header_value() {
        let hostile = "\0\u{7F}\t\\\u{202E}\u{85}name.pdf";
        let header = content_disposition(hostile);
        assert!(header.bytes().all(|byte| (0x20..0x7F).contains(&byte)), "{header:?}");
        assert!(axum::http::HeaderValue::from_str(&header).is_ok(), "{header:?}");
    }
}
