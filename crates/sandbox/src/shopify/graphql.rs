//! Enough of GraphQL to read what a client sends Shopify: operations (`query`, `mutation`, or a bare selection),
//! variable definitions with defaults, directives, fields with aliases and arguments, fragments (named and
//! inline), and every literal kind. Types in variable definitions are read and ignored: the sandbox checks
//! values where it uses them, as Shopify's resolvers would report them.

use std::collections::HashMap;

use serde_json::{Map, Number, Value as Json};

pub(crate) use super::lexer::ParseError;
use super::lexer::{Lexer, Token};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Variable(String),
    Int(i64),
    Float(f64),
    String(String),
    Boolean(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value as JSON, variables replaced (an unknown variable is null, as GraphQL's absent optional).
    pub fn resolve(&self, variables: &Map<String, Json>) -> Json {
        match self {
            Value::Variable(name) => variables.get(name).cloned().unwrap_or(Json::Null),
            Value::Int(n) => Json::from(*n),
            Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::String(s) | Value::Enum(s) => Json::String(s.clone()),
            Value::Boolean(b) => Json::Bool(*b),
            Value::Null => Json::Null,
            Value::List(items) => Json::Array(items.iter().map(|v| v.resolve(variables)).collect()),
            Value::Object(fields) => {
                Json::Object(fields.iter().map(|(k, v)| (k.clone(), v.resolve(variables))).collect())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Directive {
    pub name: String,
    pub arguments: Vec<(String, Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub arguments: Vec<(String, Value)>,
    pub directives: Vec<Directive>,
    pub selection: Vec<Selection>,
    pub line: usize,
    pub column: usize,
}

impl Field {
    /// The key the answer uses: the alias, else the name.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub fn argument(&self, name: &str) -> Option<&Value> {
        self.arguments.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every argument, resolved, as a JSON object.
    pub fn arguments_json(&self, variables: &Map<String, Json>) -> Map<String, Json> {
        self.arguments.iter().map(|(k, v)| (k.clone(), v.resolve(variables))).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    Field(Field),
    Spread(String),
    Inline { on: Option<String>, selection: Vec<Selection> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Operation {
    pub kind: OperationKind,
    pub name: Option<String>,
    /// (name, default).
    pub variables: Vec<(String, Option<Value>)>,
    pub directives: Vec<Directive>,
    pub selection: Vec<Selection>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Document {
    pub operations: Vec<Operation>,
    /// name → (type condition, selection).
    pub fragments: HashMap<String, (String, Vec<Selection>)>,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    position: (usize, usize),
}

/// Parses a GraphQL document.
pub(crate) fn parse(text: &str) -> Result<Document, ParseError> {
    let mut lexer = Lexer::new(text);
    let (token, position) = lexer.next()?;
    let mut parser = Parser { lexer, token, position };
    let mut document = Document::default();
    while parser.token != Token::End {
        parser.definition(&mut document)?;
    }
    if document.operations.is_empty() {
        return Err(ParseError { message: "Unexpected end of document".to_owned(), line: 1, column: 1 });
    }
    Ok(document)
}

impl Parser<'_> {
    fn bump(&mut self) -> Result<Token, ParseError> {
        let (next, position) = self.lexer.next()?;
        self.position = position;
        Ok(std::mem::replace(&mut self.token, next))
    }

    fn unexpected<T>(&self) -> Result<T, ParseError> {
        let (line, column) = self.position;
        Err(ParseError {
            message: format!("Parse error on {} at [{line}, {column}]", self.token.describe()),
            line,
            column,
        })
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.token == Token::Punct(c) {
            self.bump()?;
            Ok(())
        } else {
            self.unexpected()
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        match &self.token {
            Token::Name(_) => match self.bump()? {
                Token::Name(n) => Ok(n),
                _ => unreachable!(),
            },
            _ => self.unexpected(),
        }
    }

    fn definition(&mut self, document: &mut Document) -> Result<(), ParseError> {
        let kind = match &self.token {
            Token::Punct('{') => {
                let selection = self.selection_set()?;
                document.operations.push(Operation {
                    kind: OperationKind::Query,
                    name: None,
                    variables: Vec::new(),
                    directives: Vec::new(),
                    selection,
                });
                return Ok(());
            }
            Token::Name(n) if n == "query" => OperationKind::Query,
            Token::Name(n) if n == "mutation" => OperationKind::Mutation,
            Token::Name(n) if n == "subscription" => OperationKind::Subscription,
            Token::Name(n) if n == "fragment" => {
                self.bump()?;
                let name = self.name()?;
                if !matches!(&self.token, Token::Name(n) if n == "on") {
                    return self.unexpected();
                }
                self.bump()?;
                let on = self.name()?;
                self.directives()?;
                let selection = self.selection_set()?;
                document.fragments.insert(name, (on, selection));
                return Ok(());
            }
            _ => return self.unexpected(),
        };
        self.bump()?;
        let name = if matches!(self.token, Token::Name(_)) { Some(self.name()?) } else { None };
        let mut variables = Vec::new();
        if self.token == Token::Punct('(') {
            self.bump()?;
            while self.token != Token::Punct(')') {
                self.expect('$')?;
                let name = self.name()?;
                self.expect(':')?;
                self.skip_type()?;
                let default = if self.token == Token::Punct('=') {
                    self.bump()?;
                    Some(self.value(true)?)
                } else {
                    None
                };
                self.directives()?;
                variables.push((name, default));
            }
            self.bump()?;
        }
        let directives = self.directives()?;
        let selection = self.selection_set()?;
        document.operations.push(Operation { kind, name, variables, directives, selection });
        Ok(())
    }

    fn skip_type(&mut self) -> Result<(), ParseError> {
        if self.token == Token::Punct('[') {
            self.bump()?;
            self.skip_type()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        if self.token == Token::Punct('!') {
            self.bump()?;
        }
        Ok(())
    }

    fn directives(&mut self) -> Result<Vec<Directive>, ParseError> {
        let mut directives = Vec::new();
        while self.token == Token::Punct('@') {
            self.bump()?;
            let name = self.name()?;
            let arguments = self.arguments()?;
            directives.push(Directive { name, arguments });
        }
        Ok(directives)
    }

    fn arguments(&mut self) -> Result<Vec<(String, Value)>, ParseError> {
        let mut arguments = Vec::new();
        if self.token == Token::Punct('(') {
            self.bump()?;
            while self.token != Token::Punct(')') {
                let name = self.name()?;
                self.expect(':')?;
                arguments.push((name, self.value(false)?));
            }
            self.bump()?;
        }
        Ok(arguments)
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, ParseError> {
        self.expect('{')?;
        if self.token == Token::Punct('}') {
            // An empty selection set is a syntax error.
            return self.unexpected();
        }
        let mut selection = Vec::new();
        while self.token != Token::Punct('}') {
            if self.token == Token::Spread {
                self.bump()?;
                match &self.token {
                    Token::Name(n) if n == "on" => {
                        self.bump()?;
                        let on = Some(self.name()?);
                        self.directives()?;
                        selection.push(Selection::Inline { on, selection: self.selection_set()? });
                    }
                    Token::Name(_) => {
                        let name = self.name()?;
                        self.directives()?;
                        selection.push(Selection::Spread(name));
                    }
                    _ => {
                        self.directives()?;
                        selection.push(Selection::Inline { on: None, selection: self.selection_set()? });
                    }
                }
                continue;
            }
            let (line, column) = self.position;
            let first = self.name()?;
            let (alias, name) = if self.token == Token::Punct(':') {
                self.bump()?;
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let arguments = self.arguments()?;
            let directives = self.directives()?;
            let selection_set =
                if self.token == Token::Punct('{') { self.selection_set()? } else { Vec::new() };
            selection.push(Selection::Field(Field {
                alias,
                name,
                arguments,
                directives,
                selection: selection_set,
                line,
                column,
            }));
        }
        self.bump()?;
        Ok(selection)
    }

    fn value(&mut self, constant: bool) -> Result<Value, ParseError> {
        let value = match self.bump()? {
            Token::Punct('$') if !constant => Value::Variable(self.name()?),
            Token::Int(n) => Value::Int(n),
            Token::Float(f) => Value::Float(f),
            Token::Str(s) => Value::String(s),
            Token::Name(n) => match n.as_str() {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                "null" => Value::Null,
                _ => Value::Enum(n),
            },
            Token::Punct('[') => {
                let mut items = Vec::new();
                while self.token != Token::Punct(']') {
                    items.push(self.value(constant)?);
                }
                self.bump()?;
                Value::List(items)
            }
            Token::Punct('{') => {
                let mut fields = Vec::new();
                while self.token != Token::Punct('}') {
                    let name = self.name()?;
                    self.expect(':')?;
                    fields.push((name, self.value(constant)?));
                }
                self.bump()?;
                Value::Object(fields)
            }
            other => {
                // Put the token back in the message's position.
                let (line, column) = self.position;
                return Err(ParseError {
                    message: format!("Parse error on {} at [{line}, {column}]", other.describe()),
                    line,
                    column,
                });
            }
        };
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_with_variables_aliases_fragments_and_directives() {
        let doc = parse(
            r#"
            # the connector's order query
            query Orders($q: String!, $first: Int = 10) {
              recent: orders(first: $first, sortKey: CREATED_AT, reverse: true, query: $q) {
                nodes { ...O  ... on Order { name } }
              }
            }
            fragment O on Order { id lineItems(first: 50) { nodes { sku quantity } } }
            mutation Cancel($id: ID!) { orderCancel(orderId: $id, reason: INVENTORY, refund: true, restock: true) @idempotent(key: "k-1") { job { id } } }
            "#,
        )
        .unwrap();
        assert_eq!(doc.operations.len(), 2);
        let Selection::Field(orders) = &doc.operations[0].selection[0] else { panic!() };
        assert_eq!((orders.key(), orders.name.as_str()), ("recent", "orders"));
        assert_eq!(orders.argument("sortKey"), Some(&Value::Enum("CREATED_AT".into())));
        assert_eq!(doc.operations[0].variables[1], ("first".into(), Some(Value::Int(10))));
        assert!(doc.fragments.contains_key("O"));
        let Selection::Field(cancel) = &doc.operations[1].selection[0] else { panic!() };
        assert_eq!(cancel.directives[0].arguments[0].1, Value::String("k-1".into()));
        let vars: Map<String, Json> = serde_json::from_str(r#"{"id": "gid://shopify/Order/1"}"#).unwrap();
        assert_eq!(cancel.arguments_json(&vars)["orderId"], "gid://shopify/Order/1");
    }

    #[test]
    fn errors_say_where() {
        let e = parse("{ orders(first: 5) { nodes { id } }").unwrap_err();
        assert!(e.message.starts_with("Parse error on end of file"), "{}", e.message);
        let e = parse("query { }").unwrap_err();
        assert!(e.message.contains("RCURLY"), "{}", e.message);
        assert_eq!(parse(r#"{ a(s: "x\"y\u00e9") }"#).map(|_| ()), Ok(()));
    }
}
