package dev.kiln;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The Kiln service: Weldr API, blueprint store and the embedded Operaton engine. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class KilnApplication {

    public static void start(String[] args) {
        SpringApplication.run(KilnApplication.class, args);
    }
}
