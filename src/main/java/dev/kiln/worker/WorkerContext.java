package dev.kiln.worker;

import dev.kiln.KilnProperties;
import dev.kiln.pipeline.BootTestStep;
import dev.kiln.pipeline.BuildStep;
import dev.kiln.pipeline.StepTimeouts;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * What a remote worker runs: the image builders and the heavy steps, nothing of the service (no engine, no web
 * server, no blueprint store).
 */
@Configuration(proxyBeanMethods = false)
@ComponentScan(basePackages = "dev.kiln.image")
@Import({BuildStep.class, BootTestStep.class, StepTimeouts.class})
@EnableConfigurationProperties(KilnProperties.class)
class WorkerContext {
}
