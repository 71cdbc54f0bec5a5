use memchr::memchr_iter;

/// One document's slice of a file: a byte range, parsed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentChunk {
    pub start: usize,
    pub end: usize,
}

/// Splits a YAML stream into document chunks at column-0 `---` and `...` markers.
///
/// YAML forbids these markers at column 0 inside any scalar, so the split is exact for valid
/// YAML; a chunk that still holds several documents is parsed correctly anyway, because the
/// parser sees the markers too. Directives (`%YAML`) directly above a `---` stay with the
/// document they introduce.
pub fn split_documents(text: &str) -> Vec<DocumentChunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    let mut line_start = 0usize;
    // Start of a run of directive lines that belong to the next document.
    let mut directives_from: Option<usize> = None;
    let mut line_starts = std::iter::once(0).chain(memchr_iter(b'\n', bytes).map(|i| i + 1));
    let mut next_line = line_starts.next();
    while let Some(start) = next_line {
        if start > bytes.len() {
            break;
        }
        next_line = line_starts.next();
        let end = next_line.unwrap_or(bytes.len());
        line_start = start;
        let line = &bytes[start..end];
        if line.first() == Some(&b'%') {
            directives_from.get_or_insert(start);
            continue;
        }
        if is_marker(line, b'-') {
            let cut = directives_from.take().unwrap_or(start);
            if cut > chunk_start && has_content(&bytes[chunk_start..cut]) {
                chunks.push(DocumentChunk {
                    start: chunk_start,
                    end: cut,
                });
            }
            chunk_start = cut;
        } else if is_marker(line, b'.') {
            directives_from = None;
            if has_content(&bytes[chunk_start..end]) {
                chunks.push(DocumentChunk {
                    start: chunk_start,
                    end,
                });
            }
            chunk_start = end;
        } else if !line.iter().all(u8::is_ascii_whitespace) && line.first() != Some(&b'#') {
            directives_from = None;
        }
    }
    let _ = line_start;
    if chunk_start < bytes.len() && has_content(&bytes[chunk_start..]) {
        chunks.push(DocumentChunk {
            start: chunk_start,
            end: bytes.len(),
        });
    }
    chunks
}

/// `---` or `...` at column 0, followed by whitespace or the end of the line.
fn is_marker(line: &[u8], c: u8) -> bool {
    line.len() >= 3
        && line[..3].iter().all(|&b| b == c)
        && line
            .get(3)
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether a chunk holds anything besides blank lines, comments and markers.
fn has_content(chunk: &[u8]) -> bool {
    chunk.split(|&b| b == b'\n').any(|line| {
        let trimmed = line.trim_ascii();
        !(trimmed.is_empty()
            || trimmed.starts_with(b"#")
            || trimmed == b"---"
            || trimmed == b"..."
            || trimmed.starts_with(b"--- #"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        split_documents(text)
            .iter()
            .map(|c| &text[c.start..c.end])
            .collect()
    }

    #[test]
    fn splits_on_column_zero_markers_only() {
        let text = "a: 1\n---\nb: |\n  ---\n  x\n--- # two\nc: 3\n...\n# trailing\n";
        assert_eq!(
            pieces(text),
            vec![
                "a: 1\n",
                "---\nb: |\n  ---\n  x\n",
                "--- # two\nc: 3\n...\n"
            ]
        );
    }

    #[test]
    fn pem_dashes_do_not_split() {
        let text = "k: |\n  -----BEGIN CERT-----\n---\nz: 1\n";
        assert_eq!(pieces(text).len(), 2);
    }

    #[test]
    fn directives_go_with_their_document() {
        let text = "a: 1\n%YAML 1.2\n---\nb: 2\n";
        assert_eq!(pieces(text), vec!["a: 1\n", "%YAML 1.2\n---\nb: 2\n"]);
    }

    #[test]
    fn empty_documents_are_dropped() {
        assert!(split_documents("---\n# only a comment\n---\n").is_empty());
    }
}
