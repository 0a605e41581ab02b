//! Who is calling. Sessions and API tokens arrive with the identity work; until then every
//! API request acts as the workspace's own system principal, and `weft serve` warns when it
//! is reachable beyond this machine. The extractor is the one place that will change.

use axum::extract::FromRequestParts;
use http::request::Parts;
use weft_model::Principal;

use crate::Problem;

pub struct Actor(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Problem;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Actor(Principal::system()))
    }
}
