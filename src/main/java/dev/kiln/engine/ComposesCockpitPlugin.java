package dev.kiln.engine;

import java.util.Set;
import org.operaton.bpm.cockpit.plugin.spi.impl.AbstractCockpitPlugin;

/**
 * Kiln's Cockpit plugin (found by the webapp through {@code META-INF/services}): a "Composes" entry in Cockpit's
 * header and on its dashboard that lists every compose, finished and failed ones too (the community Cockpit shows
 * running instances only), with state, step, times and the reason a failed one failed. Its page is
 * {@code kiln-cockpit/app/plugin.js}; its data is {@link ComposesCockpitResource}.
 */
public class ComposesCockpitPlugin extends AbstractCockpitPlugin {

    /** The plugin's id: its routes are {@code /operaton/api/cockpit/plugin/kiln/...}. */
    public static final String ID = "kiln";

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public Set<Class<?>> getResourceClasses() {
        return Set.of(ComposesCockpitResource.class);
    }

    @Override
    public String getAssetDirectory() {
        return "kiln-cockpit";
    }
}
