//! The event-bus mode's stages: render (the typed values, `model`, and beside them what the
//! chart deploys, `bus`), rules (`check`) and emit (`emit`).

use crate::bus::Bus;
use crate::diag::{Diagnostic, Sources};
use crate::emit::Files;
use crate::load::Node;
use crate::model::Model;
use crate::server_version::Stated;

/// The event-bus mode's stages.
pub struct EventBus<'a> {
    /// The nats-server release the operator states, for images that name none.
    pub stated: Option<&'a Stated>,
}

impl super::Stages for EventBus<'_> {
    /// The typed values and the rendered bus, side by side; `None` without a cluster type.
    type Rendered = Option<(Model, Bus)>;

    fn render(&self, root: &Node, _: &Sources) -> (Self::Rendered, Vec<Diagnostic>) {
        let rendered = crate::model::build(root).map(|mut m| {
            m.server_version = self.stated.cloned();
            (m, crate::bus::build(root))
        });
        (rendered, vec![])
    }

    fn rules(&self, root: &Node, r: &Self::Rendered, sources: &Sources) -> Vec<Diagnostic> {
        crate::check::check(root, r.as_ref().map(|(m, b)| (m, b)), sources)
    }

    fn emit(&self, _: &Node, r: &Self::Rendered) -> Files {
        match r {
            Some((m, bus)) => crate::emit::emit(m, bus),
            None => Files::new(),
        }
    }

    fn keep(r: Self::Rendered) -> (Option<Model>, Option<Bus>) {
        match r {
            Some((m, b)) => (Some(m), Some(b)),
            None => (None, None),
        }
    }
}
