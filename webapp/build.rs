//! Embeds `templates/` in the binary: it runs from anywhere, and a template that does not
//! parse fails the test that renders every template, not a visitor's request.
fn main() {
    minijinja_embed::embed_templates!("../templates");
}
