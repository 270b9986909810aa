package dev.kiln.api;

import dev.kiln.KilnProperties;
import dev.kiln.engine.ApiToken;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * What the loopback TCP listener lets through. The unix socket (mode 0660, group {@code weldr}) is trusted as lorax
 * trusted it: its file mode is the access control. On TCP, where any local account or a web page in a local browser
 * can connect: the {@code Host} header must name this machine's loopback (or a configured name), so that a DNS
 * rebinding page cannot reach the API; and the Weldr API ({@code /api/}) answers only when {@code kiln.api.tcp-weldr}
 * is set and the request carries the API token as a bearer credential (401 otherwise); the routes of remote build
 * workers ({@value #WORKER_ROUTES}) need the token only. {@code /engine-rest} and Cockpit keep their own login.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE) // ahead of every other filter, the engine's and Spring's included
class TcpGuard extends OncePerRequestFilter {

    /** What remote build workers use ({@code kiln worker}): on TCP with the token, whether or not the Weldr API is. */
    static final String WORKER_ROUTES = "/api/kiln/worker/";
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");
    private final boolean tcpWeldr;
    private final Set<String> hosts = new TreeSet<>(LOOPBACK);
    private final ApiToken token;

    TcpGuard(KilnProperties properties, ApiToken token) {
        this.tcpWeldr = properties.api().tcpWeldr();
        this.token = token;
        properties.api().allowedHosts().forEach(h -> hosts.add(h.toLowerCase(Locale.ROOT)));
        String address = properties.api().address().strip().toLowerCase(Locale.ROOT);
        if (!address.isEmpty() && !address.equals("0.0.0.0") && !address.equals("::")) {
            hosts.add(address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address);
        }
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!isTcp(request)) {
            chain.doFilter(request, response);
            return;
        }
        boolean api = request.getRequestURI().startsWith("/api/") || request.getRequestURI().equals("/api");
        if (!hosts.contains(hostName(request.getHeader("Host")))) {
            refuse(response, 400, api, "BadHost", "Host not allowed: use 127.0.0.1, localhost or a name in "
                    + "kiln.api.allowed-hosts");
            return;
        }
        if (api) {
            String auth = request.getHeader("Authorization");
            String bearer = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : null;
            if (!token.matches(bearer)) {
                response.setHeader("WWW-Authenticate", "Bearer realm=\"kiln\"");
                refuse(response, 401, true, "Unauthorized", "The Weldr API on TCP needs the token of "
                        + "<state-dir>/api-token as 'Authorization: Bearer <token>'; the unix socket needs none");
                return;
            }
            if (!tcpWeldr && !request.getRequestURI().startsWith(WORKER_ROUTES)) {
                refuse(response, 403, true, "Forbidden", "The Weldr API is not served on TCP "
                        + "(kiln.api.tcp-weldr=false); use the unix socket");
                return;
            }
        }
        chain.doFilter(request, response);
    }

    /** Requests through the unix-socket connector have no TCP port. */
    static boolean isTcp(HttpServletRequest request) {
        return request.getLocalPort() > 0;
    }

    /** The host part of a Host header, lower case, without its port; null when there is none. */
    static String hostName(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? null : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    private static void refuse(HttpServletResponse response, int status, boolean api, String id, String msg)
            throws IOException {
        response.setStatus(status);
        if (api) {
            response.setContentType("application/json");
            String body = "{\"status\":false,\"errors\":[{\"id\":\"" + id + "\",\"msg\":\"" + msg + "\"}]}";
            response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
        } else {
            response.setContentType("text/plain;charset=UTF-8");
            response.getOutputStream().write((msg + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
