package io.lodestar.core.audit;

import io.lodestar.api.v1.state.Command;

/** What a command wrote, for the audit trail: its namespace ("" when cluster-wide) and target. */
final class AuditTargets {
  private AuditTargets() {}

  static String[] of(Command c) {
    return switch (c.getKindCase()) {
      case CREATE_NAMESPACE -> pair(c.getCreateNamespace().getName(), "");
      case DELETE_NAMESPACE -> pair(c.getDeleteNamespace().getName(), "");
      case PUT_SERVICE -> pair(c.getPutService().getNamespace(), c.getPutService().getName());
      case DELETE_SERVICE -> pair(c.getDeleteService().getNamespace(), c.getDeleteService().getName());
      case REGISTER_INSTANCE -> pair(c.getRegisterInstance().getInstance().getNamespace(),
          c.getRegisterInstance().getInstance().getService() + "/" + c.getRegisterInstance().getInstance().getId());
      case DEREGISTER_INSTANCE -> pair(c.getDeregisterInstance().getNamespace(),
          c.getDeregisterInstance().getService() + "/" + c.getDeregisterInstance().getId());
      case UPDATE_INSTANCE -> pair(c.getUpdateInstance().getRef().getNamespace(),
          c.getUpdateInstance().getRef().getService() + "/" + c.getUpdateInstance().getRef().getId());
      case DEREGISTER_OWNED -> pair("", "client " + c.getDeregisterOwned().getOwner());
      case SET_HEALTH -> pair("", c.getSetHealth().getChangesCount() + " instances");
      case PUBLISH_CONFIG -> pair(c.getPublishConfig().getNamespace(),
          c.getPublishConfig().getGroup() + "/" + c.getPublishConfig().getName() + (c.getPublishConfig().hasGray() ? " (gray)" : ""));
      case DELETE_CONFIG -> pair(c.getDeleteConfig().getNamespace(), c.getDeleteConfig().getGroup() + "/" + c.getDeleteConfig().getName());
      case ROLLBACK_CONFIG -> pair(c.getRollbackConfig().getNamespace(),
          c.getRollbackConfig().getGroup() + "/" + c.getRollbackConfig().getName() + " to " + c.getRollbackConfig().getToVersion());
      case PROMOTE_CONFIG_GRAY -> pair(c.getPromoteConfigGray().getNamespace(),
          c.getPromoteConfigGray().getGroup() + "/" + c.getPromoteConfigGray().getName());
      case ABORT_CONFIG_GRAY -> pair(c.getAbortConfigGray().getNamespace(),
          c.getAbortConfigGray().getGroup() + "/" + c.getAbortConfigGray().getName());
      case PUT_RULES -> pair(c.getPutRules().getNamespace(), rulesTarget(c.getPutRules().getService(),
          c.getPutRules().getRules().getAllFields().keySet().stream().map(f -> f.getName()).findFirst().orElse("")));
      case DELETE_RULES -> pair(c.getDeleteRules().getNamespace(), rulesTarget(c.getDeleteRules().getService(),
          c.getDeleteRules().getKind() == io.lodestar.api.v1.RuleKind.UNRECOGNIZED ? ""
              : io.lodestar.api.WireEnums.name(c.getDeleteRules().getKind().getValueDescriptor())));
      case REENCRYPT_SECRET -> pair(c.getReencryptSecret().getNamespace(), c.getReencryptSecret().getGroup() + "/"
          + c.getReencryptSecret().getName() + " re-encrypted (" + c.getReencryptSecret().getVersionsCount() + " versions)");
      case ROTATE_SECRET_KEY -> pair("", "secret key generation " + c.getRotateSecretKey().getGeneration());
      case KV_PUT -> pair(c.getKvPut().getNamespace(), c.getKvPut().getKey());
      case KV_DELETE -> pair(c.getKvDelete().getNamespace(), c.getKvDelete().getKey());
      case CREATE_TOKEN -> pair("", c.getCreateToken().getName() + " " + String.join(",", c.getCreateToken().getPoliciesList()));
      case REVOKE_TOKEN -> pair("", c.getRevokeToken().getName());
      case AUDIT_NOTE -> pair(c.getAuditNote().getNamespace(), c.getAuditNote().getTarget());
      case RAISE_FEATURE_LEVEL -> pair("", "feature level " + c.getRaiseFeatureLevel().getLevel());
      case KIND_NOT_SET -> pair("", "");
    };
  }

  private static String rulesTarget(String service, String kind) {
    return (service.isEmpty() ? "(namespace default)" : service) + " " + kind;
  }

  private static String[] pair(String ns, String target) {
    return new String[] {ns, target};
  }
}
