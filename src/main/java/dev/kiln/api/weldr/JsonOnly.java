package dev.kiln.api.weldr;

import java.util.List;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The Weldr API answers JSON (or the TOML and files its routes name), never XML: Spring MVC would put an XML
 * converter before JSON's, and answer {@code Accept: *}{@code /*} clients in XML, as soon as a library brings
 * Jackson's XML module onto the class path.
 */
@Configuration
class JsonOnly implements WebMvcConfigurer {

    @Override
    public void extendMessageConverters(List<HttpMessageConverter<?>> converters) {
        converters.removeIf(c -> c.getClass().getName().contains("Xml"));
    }
}
