package dev.refact.core;

/**
 * How one request of a joint edit went.
 *
 * @param request           the request
 * @param steps             Adam steps of its v* search
 * @param stopReason        why its search stopped
 * @param targetProbability mean p(target) over its rewriting prompts when its search stopped
 * @param deltaNorm         ‖δ‖ of its value
 * @param t0Norm            ‖t₀‖, the clean MLP output's norm at its bare subject's last token
 * @param residual          after the update, ‖W' k_b + b − v*‖ / ‖v* − v_b‖ measured by a forward pass (0 = the
 *                          request holds exactly)
 */
public record RequestOutcome(EditRequest request, int steps, StopReason stopReason, double targetProbability,
                             double deltaNorm, double t0Norm, double residual) {
}
