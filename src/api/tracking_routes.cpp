// GET /tracking, POST /tracking and POST /tracking/batch: the original's contract and its batch.
#include "api/application.hpp"
#include "api/json_codec.hpp"
#include "api/route_support.hpp"
#include "core/text.hpp"

namespace dinex::api {

using core::errc;
using core::error;

void application::lookup(request& req, const call& c, completion done) {
    const auto fail = [&](const error& e, std::string_view tracking_id = {}) {
        done(error_response(e, req.request_id, tracking_id));
    };
    const auto id = query_param(req.query, "tracking_id");
    if (!id) {
        return fail(error::field(errc::invalid_argument, std::string(core::tracking_id_required),
                                 "tracking_id", "required"));
    }
    auto normalized = core::normalize_tracking_id(*id);
    if (!normalized) return fail(normalized.error());
    lookup_cache& cache = c.full_view ? cache_ : public_cache_;
    response res;
    if (auto cached = cache.get(*normalized, service_.now())) {
        set_json(res, 200, std::move(*cached));
        return done(std::move(res));
    }
    const auto ticket = cache.begin(*normalized);
    auto found = service_.track(*normalized);
    if (!found) {
        // A 404 echoes the id, as the original did.
        return fail(found.error(), found.error().code == errc::not_found ? std::string_view(*normalized)
                                                                         : std::string_view());
    }
    const core::millis expires_at = found->state.expires_at;
    std::string body = encode_package(c.full_view ? *found : public_view(std::move(*found)));
    if (cache.enabled()) cache.put(ticket, *normalized, body, expires_at);
    set_json(res, 200, std::move(body));
    done(std::move(res));
}

void application::record(request& req, const call&, completion done) {
    const auto fail = [&](const error& e) { done(error_response(e, req.request_id)); };
    auto input = decode_event_input(req.body);
    if (!input) return fail(input.error());
    // Ignored fields are named in the answer, and for the operator on the log line.
    std::string ignored_note = detail::ignored_note_of(input->ignored_fields);

    const std::string_view key = core::trim_blanks(req.header_value("idempotency-key"));
    if (!key.empty()) {
        if (input->event_id && *input->event_id != key) {
            return fail(error::field(errc::invalid_argument, "event_id and the Idempotency-Key header differ",
                                     "event_id", "equals:Idempotency-Key"));
        }
        input->event_id = std::string(key);
    }

    service_.record(
        *input, detail::answer_on_requester<core::result<core::append_outcome>>(
                    req, std::move(done),
                    [this, request_id = req.request_id, note = note_of(*input),
                     ignored_note = std::move(ignored_note)](core::result<core::append_outcome> r) mutable {
                        if (!r) {
                            response er = error_response(r.error(), request_id);
                            if (er.log_note.empty()) er.log_note = std::move(ignored_note);
                            return er;
                        }
                        note_stored(*r);
                        response ok;
                        ok.log_note = std::move(ignored_note);
                        set_json(ok, r->kind == core::outcome_kind::replay ? 200 : 201,
                                 encode_append(*r, note));
                        ok.set_header("location", "/tracking?tracking_id=" + r->stored.tracking_id);
                        return ok;
                    }));
}

void application::note_stored(const core::append_outcome& o) {
    // After the commit, before the client hears of it: nobody reads older data than they wrote.
    if (o.kind != core::outcome_kind::replay) {
        cache_.invalidate(o.stored.tracking_id);
        public_cache_.invalidate(o.stored.tracking_id);
    }
    if (events_) events_->answered(o.stored.state, o.kind);
}

void application::record_batch(request& req, const call&, completion done) {
    const auto fail = [&](const error& e) { done(error_response(e, req.request_id)); };
    // One key cannot name several events: each item carries its own event_id.
    if (!core::trim_blanks(req.header_value("idempotency-key")).empty()) {
        return fail(error::field(errc::invalid_argument,
                                 "Idempotency-Key does not apply to a batch; give each event its event_id",
                                 "idempotency-key", "not_allowed"));
    }
    auto decoded = decode_batch(req.body);
    if (!decoded) return fail(decoded.error());

    // Items that failed to decode keep their error; the others go through validation and the
    // store together, and their answers are put back in place.
    std::vector<core::result<core::append_outcome>> results;
    results.reserve(decoded->items.size());
    std::vector<write_note> notes(decoded->items.size());
    std::vector<std::string> ignored = decoded->ignored_fields;
    std::vector<core::event_input> inputs;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < decoded->items.size(); ++i) {
        auto& item = decoded->items[i];
        if (item) {
            notes[i] = note_of(*item);
            for (auto& name : item->ignored_fields) ignored.push_back(std::move(name));
            inputs.push_back(std::move(*item));
            positions.push_back(i);
            results.emplace_back(core::fail(error::internal_error("not applied")));
        } else {
            results.emplace_back(core::fail(std::move(item.error())));
        }
    }
    auto answer = detail::answer_on_requester<std::vector<core::result<core::append_outcome>>>(
        req, std::move(done),
        [this, results = std::move(results), positions = std::move(positions),
         ignored_here = std::move(decoded->ignored_fields), notes = std::move(notes),
         ignored_note = detail::ignored_note_of(ignored)](
            std::vector<core::result<core::append_outcome>> stored) mutable {
            for (std::size_t k = 0; k < stored.size() && k < positions.size(); ++k) {
                results[positions[k]] = std::move(stored[k]);
            }
            for (const auto& r : results) {
                if (r) note_stored(*r);
            }
            response ok;
            ok.log_note = std::move(ignored_note);
            set_json(ok, 200, encode_batch(results, ignored_here, notes, &http_status));
            return ok;
        });
    if (inputs.empty()) return answer({});
    service_.record_batch(inputs, std::move(answer));
}

}  // namespace dinex::api
