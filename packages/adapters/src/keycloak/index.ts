export { createKeycloakAuthenticate, type KeycloakAccessToken, type KeycloakAuthenticateOptions } from './authenticate.js';
export { createKeycloakClient, type KeycloakClient, type KeycloakClientOptions, type KeycloakUser } from './client.js';
export { createKeycloakSink, KEYCLOAK_ATTRIBUTES, type KeycloakSink, type KeycloakSinkOptions } from './sink.js';
