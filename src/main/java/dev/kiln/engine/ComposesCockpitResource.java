package dev.kiln.engine;

import dev.kiln.pipeline.ComposeService;
import jakarta.servlet.ServletContext;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.operaton.bpm.cockpit.plugin.resource.AbstractCockpitPluginRootResource;
import org.springframework.web.context.support.WebApplicationContextUtils;

/**
 * The plugin's data: {@code GET /operaton/api/cockpit/plugin/kiln/<engine>/composes?max=N}, the newest composes
 * as the Weldr API sees them (the same {@link ComposeService}), newest first. Cockpit's security filter lets only
 * users logged in to the engine reach it; its assets ({@code static/app/plugin.js}) are public, as Cockpit's are.
 */
@Path("plugin/" + ComposesCockpitPlugin.ID)
public class ComposesCockpitResource extends AbstractCockpitPluginRootResource {

    /** The most a page asks for. */
    static final int MAX = 1000;

    @Context
    private ServletContext servletContext;

    public ComposesCockpitResource() {
        super(ComposesCockpitPlugin.ID);
    }

    @GET
    @Path("{engine}/composes")
    @Produces(MediaType.APPLICATION_JSON)
    public List<Map<String, Object>> composes(@PathParam("engine") String engine,
            @QueryParam("max") @DefaultValue("200") int max) {
        ComposeService composes = WebApplicationContextUtils.getRequiredWebApplicationContext(servletContext)
                .getBean(ComposeService.class);
        List<Map<String, Object>> out = new ArrayList<>();
        for (ComposeService.Overview o : composes.overview(Math.max(1, Math.min(max, MAX)))) {
            ComposeService.Compose c = o.compose();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", c.id());
            m.put("status", c.status());
            m.put("step", c.step());
            m.put("blueprint", c.blueprint());
            m.put("version", c.version());
            m.put("type", c.typeName());
            m.put("created", c.created());
            m.put("started", c.started());
            m.put("finished", c.finished());
            m.put("imageSize", c.imageSize());
            m.put("processInstanceId", c.instance());
            m.put("error", o.error());
            out.add(m);
        }
        return out;
    }
}
