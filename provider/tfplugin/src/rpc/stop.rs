//! Stop (cancel in-flight work) and CallFunction (aqemia declares no functions).

use tokio_util::sync::CancellationToken;

use crate::proto::tfplugin5 as pb;

/// Fires the token every running operation watches, and arms a fresh one for later calls.
pub fn cancel_in_flight(token: &mut CancellationToken) {
    token.cancel();
    *token = CancellationToken::new();
}

pub fn call_function(request: pb::call_function::Request) -> pb::call_function::Response {
    pb::call_function::Response {
        result: None,
        error: Some(pb::FunctionError {
            text: format!("the aqemia provider declares no function {:?}", request.name),
            function_argument: None,
        }),
    }
}
