//! Container output as lines, for `service logs`.

use std::collections::VecDeque;

use bollard::container::LogOutput;
use futures_util::stream::{self, BoxStream, StreamExt};

use super::error::RuntimeError;
use super::runtime::{LogLine, OutputStream};

struct Splitter {
    chunks: BoxStream<'static, Result<LogOutput, RuntimeError>>,
    partial: [String; 2],
    ready: VecDeque<Result<LogLine, RuntimeError>>,
    done: bool,
}

/// Turns the engine's frames (which need not end at line ends) into whole lines.
pub(super) fn split_lines(
    chunks: BoxStream<'static, Result<LogOutput, RuntimeError>>,
) -> BoxStream<'static, Result<LogLine, RuntimeError>> {
    let state = Splitter {
        chunks,
        partial: [String::new(), String::new()],
        ready: VecDeque::new(),
        done: false,
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if let Some(line) = s.ready.pop_front() {
                return Some((line, s));
            }
            if s.done {
                return None;
            }
            match s.chunks.next().await {
                Some(Ok(chunk)) => {
                    let (which, bytes) = match chunk {
                        LogOutput::StdErr { message } => (OutputStream::Stderr, message),
                        LogOutput::StdOut { message }
                        | LogOutput::Console { message }
                        | LogOutput::StdIn { message } => (OutputStream::Stdout, message),
                    };
                    let buf = &mut s.partial[which as usize];
                    buf.push_str(&String::from_utf8_lossy(&bytes));
                    while let Some(end) = buf.find('\n') {
                        let line: String = buf.drain(..=end).collect();
                        let line = line.trim_end_matches(['\n', '\r']).to_string();
                        s.ready.push_back(Ok(LogLine {
                            stream: which,
                            line,
                        }));
                    }
                }
                Some(Err(e)) => s.ready.push_back(Err(e)),
                None => {
                    s.done = true;
                    // A last line without its newline still counts.
                    for (i, which) in [OutputStream::Stdout, OutputStream::Stderr]
                        .into_iter()
                        .enumerate()
                    {
                        let rest = std::mem::take(&mut s.partial[i]);
                        if !rest.is_empty() {
                            s.ready.push_back(Ok(LogLine {
                                stream: which,
                                line: rest,
                            }));
                        }
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    #[tokio::test]
    async fn frames_become_whole_lines() {
        let frames = vec![
            Ok(LogOutput::StdOut {
                message: Bytes::from("hel"),
            }),
            Ok(LogOutput::StdErr {
                message: Bytes::from("oops\n"),
            }),
            Ok(LogOutput::StdOut {
                message: Bytes::from("lo\nworld\nta"),
            }),
            Ok(LogOutput::StdOut {
                message: Bytes::from("il"),
            }),
        ];
        let lines: Vec<_> = split_lines(stream::iter(frames).boxed())
            .map(|l| l.map(|l| (l.stream, l.line)))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("lines");
        assert_eq!(
            lines,
            [
                (OutputStream::Stderr, "oops".to_string()),
                (OutputStream::Stdout, "hello".to_string()),
                (OutputStream::Stdout, "world".to_string()),
                (OutputStream::Stdout, "tail".to_string()),
            ]
        );
    }
}
