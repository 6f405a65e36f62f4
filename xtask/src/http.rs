//! The HTTP requests xtask makes itself (latency samples, readiness polls), through ureq: plain
//! http, since what xtask measures answers on this machine (127.0.0.1, a port-forward, the
//! node of a local cluster) and no TLS root store is reachable offline.

use std::time::Duration;

use anyhow::{Context, Result};

/// GET `url` within `timeout`, returning the status code (an error status is an answer, not a
/// failure). The body is read as the server framed it (length or chunks), not to the end of the
/// connection: a tunnel (kubectl port-forward) may hold it open well after the response, which
/// must not be measured. Every call opens its own connection, so each sample costs the same.
pub fn get_status(url: &str, timeout: Duration) -> Result<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_idle_connections(0)
        .user_agent("cargo-xtask")
        .build()
        .into();
    let mut response = agent.get(url).call().with_context(|| format!("GET {url}"))?;
    response.body_mut().read_to_vec().with_context(|| format!("GET {url}: reading the body"))?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Read, Write},
        net::{TcpListener, TcpStream},
        sync::mpsc,
        thread,
        time::{Duration, Instant},
    };

    use super::get_status;

    /// Reads one request head, as a server does.
    fn request_line(stream: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        String::from_utf8_lossy(&head).lines().next().unwrap().to_owned()
    }

    #[test]
    fn the_status_of_a_real_server_whatever_the_body_framing() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let mut seen = Vec::new();
            let mut held = Vec::new();
            let answers = [
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            ];
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                seen.push(request_line(&mut stream));
                stream.write_all(answer.as_bytes()).unwrap();
                // Like a port-forward tunnel: the connection stays open after the response.
                held.push(stream);
            }
            thread::sleep(Duration::from_secs(3));
            seen
        });
        let url = format!("http://127.0.0.1:{port}/ready");
        let start = Instant::now();
        assert_eq!(get_status(&url, Duration::from_secs(5)).unwrap(), 200);
        assert_eq!(get_status(&url, Duration::from_secs(5)).unwrap(), 503);
        assert_eq!(get_status(&url, Duration::from_secs(5)).unwrap(), 200);
        // Done when the body is complete, not when the peer closes.
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert_eq!(server.join().unwrap(), ["GET /ready HTTP/1.1"; 3]);
    }

    #[test]
    fn a_server_that_never_answers_is_an_error_after_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/slow", listener.local_addr().unwrap().port());
        // Accepts and reads the request, then says nothing.
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            request_line(&mut stream);
            thread::sleep(Duration::from_secs(30));
        });
        let (done, result) = mpsc::channel();
        let start = Instant::now();
        thread::spawn(move || done.send(get_status(&url, Duration::from_millis(500))).unwrap());
        let result = result.recv_timeout(Duration::from_secs(10)).expect("the timeout was not applied");
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.starts_with("GET http://127.0.0.1:"), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(500), "{:?}", start.elapsed());
    }
}
