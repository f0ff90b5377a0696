//! Small real files of each accepted type, and some that must be refused,
//! built in memory for upload tests.

use std::io::Write;

use zip::write::SimpleFileOptions;

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

pub fn docx() -> Vec<u8> {
    zip_of(&[("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", "<w:document/>")])
}

pub fn xlsx() -> Vec<u8> {
    zip_of(&[("[Content_Types].xml", CONTENT_TYPES), ("xl/workbook.xml", "<workbook/>")])
}

pub fn pptx() -> Vec<u8> {
    zip_of(&[("[Content_Types].xml", CONTENT_TYPES), ("ppt/presentation.xml", "<p:presentation/>")])
}

pub fn odt() -> Vec<u8> {
    zip_of(&[("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office:document-content/>")])
}

pub fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    bytes
}

pub fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

pub fn text() -> Vec<u8> {
    "Vendor notes: the application sends from one mailbox.\n".as_bytes().to_vec()
}

/// Returns a Windows executable's first bytes.
pub fn executable() -> Vec<u8> {
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    bytes.extend_from_slice(b"This program cannot be run in DOS mode.\r\n");
    bytes
}

pub fn html() -> Vec<u8> {
    b"<!doctype html><html><body><script>document.title='owned'</script></body></html>\n".to_vec()
}

/// Builds a PDF of exactly `size` bytes.
pub fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut bytes = pdf();
    bytes.resize(size, b' ');
    bytes
}
