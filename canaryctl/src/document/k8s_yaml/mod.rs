//! A YAML stream read into JSON documents the way `kubectl apply` reads a
//! manifest file: every scalar resolved by `resolve` (YAML 1.1 as go-yaml v2
//! resolves it), keys turned into strings as sigs.k8s.io/yaml turns them,
//! aliases expanded. yaml-rust2 parses, because its events tell a plain
//! scalar from a quoted one, which decides what `0000` or `on` is.

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod resolve;

use resolve::Scalar;

/// Every document of `text`, empty ones as null.
pub fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut events = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| e.to_string())?;
        let end = event == Event::StreamEnd;
        events.push((event, mark));
        if end {
            break;
        }
    }
    let mut reader = Reader {
        events: events.into_iter().peekable(),
        anchors: HashMap::new(),
    };
    let mut documents = Vec::new();
    while let Some((event, mark)) = reader.events.next() {
        match event {
            Event::DocumentStart => {
                // go-yaml's anchors, like the parser's, belong to one document.
                reader.anchors.clear();
                let node = reader.node("")?;
                documents.push(json(node, "", Some(mark))?);
            }
            Event::StreamStart | Event::DocumentEnd | Event::StreamEnd | Event::Nothing => {}
            other => return Err(at(Some(mark), "", &format!("unexpected {other:?}"))),
        }
    }
    Ok(documents)
}

/// A node read so far: a scalar keeps its resolution, for use as a key.
#[derive(Clone)]
enum Node {
    Scalar(Scalar),
    Tree(Value),
}

struct Reader {
    events: std::iter::Peekable<std::vec::IntoIter<(Event, Marker)>>,
    anchors: HashMap<usize, Node>,
}

fn at(mark: Option<Marker>, path: &str, message: &str) -> String {
    let Some(mark) = mark else {
        return format!("end of the stream: {path}: {message}");
    };
    let place = format!("line {} column {}", mark.line(), mark.col() + 1);
    if path.is_empty() {
        format!("{place}: {message}")
    } else {
        format!("{place}: {path}: {message}")
    }
}

fn json(node: Node, path: &str, mark: Option<Marker>) -> Result<Value, String> {
    match node {
        Node::Scalar(scalar) => resolve::json_value(scalar).map_err(|e| at(mark, path, &e)),
        Node::Tree(value) => Ok(value),
    }
}

fn tag_name(tag: Option<Tag>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

impl Reader {
    fn next(&mut self, path: &str) -> Result<(Event, Marker), String> {
        self.events
            .next()
            .ok_or_else(|| format!("{path}: the YAML stream ends early"))
    }

    /// Reads the node that starts at the next event.
    fn node(&mut self, path: &str) -> Result<Node, String> {
        let (event, mark) = self.next(path)?;
        let mark = Some(mark);
        let (anchor, node) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == TScalarStyle::Plain;
                let scalar = resolve::resolve(&text, plain, tag_name(tag).as_deref())
                    .map_err(|e| at(mark, path, &e))?;
                (anchor, Node::Scalar(scalar))
            }
            Event::SequenceStart(anchor, _) => (anchor, Node::Tree(self.sequence(path)?)),
            Event::MappingStart(anchor, _) => (anchor, Node::Tree(self.mapping(path)?)),
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned();
                return node.ok_or_else(|| at(mark, path, "alias of an unknown anchor"));
            }
            other => return Err(at(mark, path, &format!("unexpected {other:?}"))),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn sequence(&mut self, path: &str) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            if let Some((Event::SequenceEnd, _)) = self.events.peek() {
                self.events.next();
                return Ok(Value::Array(items));
            }
            let here = format!("{path}[{}]", items.len());
            let mark = self.peek_mark();
            let node = self.node(&here)?;
            items.push(json(node, &here, mark)?);
        }
    }

    fn mapping(&mut self, path: &str) -> Result<Value, String> {
        let mut map = Map::new();
        loop {
            let mark = self.peek_mark();
            match self.events.peek() {
                Some((Event::MappingEnd, _)) => {
                    self.events.next();
                    return Ok(Value::Object(map));
                }
                Some((Event::Scalar(text, TScalarStyle::Plain, _, None), _)) if text == "<<" => {
                    return Err(at(
                        mark,
                        path,
                        "merge keys (<<) are not supported here: write the keys out",
                    ));
                }
                _ => {}
            }
            let key = match self.node(path)? {
                Node::Scalar(scalar) => {
                    resolve::json_key(scalar).map_err(|e| at(mark, path, &e))?
                }
                Node::Tree(_) => return Err(at(mark, path, "a mapping or sequence as a key")),
            };
            // Stricter than kubectl, which keeps the last: a repeated key
            // always hides one of its two values. (go-yaml's strict wording.)
            if map.contains_key(&key) {
                return Err(at(mark, path, &format!("key {key:?} already set in map")));
            }
            let here = field(path, &key);
            let value_mark = self.peek_mark();
            let node = self.node(&here)?;
            map.insert(key, json(node, &here, value_mark)?);
        }
    }

    fn peek_mark(&mut self) -> Option<Marker> {
        self.events.peek().map(|(_, mark)| *mark)
    }
}

/// `parent` extended by a field name, as the API server prints paths.
pub fn field(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_and_quoted_scalars_in_a_manifest() {
        let text = "a: 0000\nb: '0000'\nc: on\nd: \"on\"\ne: 1.10\nf: ~\ng:\nh: |\n  0755\ni: !!str 0755\n";
        let docs = parse(text).unwrap();
        assert_eq!(
            docs,
            [
                json!({"a": 0, "b": "0000", "c": true, "d": "on", "e": 1.1, "f": null,
                    "g": null, "h": "0755\n", "i": "0755"})
            ]
        );
    }

    #[test]
    fn keys_aliases_and_documents() {
        // `y` is a boolean too, so the alias is under `z`.
        let text = "on: 1\n0755: 2\n1.10: 3\nx: &v [1e3, yes]\nz: *v\n---\n---\nk: v\n";
        let docs = parse(text).unwrap();
        assert_eq!(
            docs,
            [
                json!({"true": 1, "493": 2, "1.1": 3, "x": [1000, true], "z": [1000, true]}),
                Value::Null,
                json!({"k": "v"})
            ]
        );
    }

    #[test]
    fn what_kubernetes_cannot_read_is_an_error_with_its_place() {
        let cases = [
            (
                "spec:\n  sha: .inf\n",
                "line 2 column 8: spec.sha: json: unsupported value",
            ),
            (
                "a: 1\na: 2\n",
                "line 2 column 1: key \"a\" already set in map",
            ),
            ("on: 1\ntrue: 2\n", "key \"true\" already set in map"),
            ("~: 1\n", "Unsupported map key of type: <nil>"),
            (
                "b: &b {x: 1}\nc:\n  <<: *b\n",
                "line 3 column 3: c: merge keys (<<)",
            ),
            (
                "a: !!int abc\n",
                "line 1 column 10: a: cannot decode `abc` as a !!int",
            ),
            ("a: *nowhere\n", "line 1"),
            ("a: [1\n", "line"),
        ];
        for (text, want) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.contains(want), "{text:?}: {error}");
        }
    }
}
