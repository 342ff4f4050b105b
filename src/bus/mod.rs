pub mod gotmpl;
pub mod templates;
