package dev.kiln.api.weldr;

import dev.kiln.blueprint.BlueprintException;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.ServletRequestBindingException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/** Turns every failure under {@code /api} into the Weldr error envelope with the spec's ids and HTTP codes. */
@RestControllerAdvice
class WeldrErrors {

    private static final Logger log = LoggerFactory.getLogger(WeldrErrors.class);

    @ExceptionHandler(WeldrException.class)
    ResponseEntity<Map<String, Object>> weldr(WeldrException e) {
        Integer code = e.status().is4xxClientError() && e.id().equals("HTTPError") ? e.status().value() : null;
        return json(e.status(), new WeldrError(e.id(), code, e.getMessage()));
    }

    @ExceptionHandler(BlueprintException.class)
    ResponseEntity<Map<String, Object>> blueprint(BlueprintException e) {
        String id = switch (e.kind()) {
            case INVALID_NAME -> "InvalidChars";
            case INVALID -> "BlueprintsError";
            case UNKNOWN_BLUEPRINT -> "UnknownBlueprint";
            case UNKNOWN_COMMIT -> "UnknownCommit";
        };
        return json(HttpStatus.BAD_REQUEST, new WeldrError(id, e.getMessage()));
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<Map<String, Object>> method(HttpRequestMethodNotSupportedException e) {
        return json(HttpStatus.METHOD_NOT_ALLOWED, new WeldrError("HTTPError", 405, "Method Not Allowed"));
    }

    @ExceptionHandler({NoResourceFoundException.class, NoHandlerFoundException.class})
    ResponseEntity<?> notFound(HttpServletRequest request) {
        if (!request.getRequestURI().startsWith("/api/")) {
            return ResponseEntity.notFound().build();
        }
        return json(HttpStatus.NOT_FOUND, new WeldrError("HTTPError", 404, "Not Found"));
    }

    /**
     * What the framework itself refuses before a controller runs (a multipart type without a boundary, a media type
     * with an unknown charset, an unreadable body, a parameter of the wrong type): the client's fault, so a 400
     * (or the framework's own 4xx) in the envelope, never a 500.
     */
    @ExceptionHandler({MultipartException.class, InvalidMediaTypeException.class, HttpMessageNotReadableException.class,
            ServletRequestBindingException.class, TypeMismatchException.class, HttpMediaTypeNotSupportedException.class,
            HttpMediaTypeNotAcceptableException.class})
    ResponseEntity<Map<String, Object>> badRequest(Exception e) {
        HttpStatus status = e instanceof ErrorResponse r && r.getStatusCode().is4xxClientError()
                ? HttpStatus.valueOf(r.getStatusCode().value()) : HttpStatus.BAD_REQUEST;
        String msg = e instanceof MultipartException ? "Malformed multipart request"
                : e instanceof InvalidMediaTypeException ? "Invalid Content-Type" : "Bad Request";
        return json(status, new WeldrError("HTTPError", status.value(), msg));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Map<String, Object>> internal(Exception e, HttpServletRequest request) {
        log.error("{} {} failed", request.getMethod(), request.getRequestURI(), e);
        return json(HttpStatus.INTERNAL_SERVER_ERROR, new WeldrError("InternalError", String.valueOf(e.getMessage())));
    }

    private static ResponseEntity<Map<String, Object>> json(HttpStatus status, WeldrError error) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(WeldrError.envelope(error));
    }
}
