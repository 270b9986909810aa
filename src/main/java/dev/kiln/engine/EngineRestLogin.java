package dev.kiln.engine;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.rest.security.auth.AuthenticationProvider;
import org.operaton.bpm.engine.rest.security.auth.AuthenticationResult;
import org.operaton.bpm.engine.rest.security.auth.impl.HttpBasicAuthenticationProvider;
import org.springframework.web.context.support.WebApplicationContextUtils;

/**
 * Who may call {@code /engine-rest}: an engine user by HTTP basic (Cockpit's login), or a build worker sending the
 * API token as {@code Authorization: Bearer …} ({@code kiln worker --token}), which acts as the engine user
 * {@value #WORKER_USER}. Anything else is refused with the basic challenge.
 */
public class EngineRestLogin implements AuthenticationProvider {

    /** The engine user a worker holding the API token acts as (it needs no entry in the engine's identities). */
    public static final String WORKER_USER = "kiln-worker";
    private final HttpBasicAuthenticationProvider basic = new HttpBasicAuthenticationProvider();

    @Override
    public AuthenticationResult extractAuthenticatedUser(HttpServletRequest request, ProcessEngine engine) {
        String auth = request.getHeader("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ApiToken token = WebApplicationContextUtils.getRequiredWebApplicationContext(request.getServletContext())
                    .getBean(ApiToken.class);
            return token.matches(auth.substring(7).strip()) ? AuthenticationResult.successful(WORKER_USER)
                    : AuthenticationResult.unsuccessful();
        }
        return basic.extractAuthenticatedUser(request, engine);
    }

    @Override
    public void augmentResponseByAuthenticationChallenge(HttpServletResponse response, ProcessEngine engine) {
        basic.augmentResponseByAuthenticationChallenge(response, engine);
    }
}
